"""A witness on another loopback address (127.0.0.2): it records every connection made to it.

The site is served from 127.0.0.1, so anything that reaches 127.0.0.2 crossed an origin
boundary. Chromium sends loopback traffic straight past its proxy, so this sees what the
egress recorder cannot: a plain TCP connection opened by ``<link rel=preconnect>`` (which
no Content-Security-Policy covers) shows up here even though no request follows it.
"""

from __future__ import annotations

import socket
import threading

ADDRESS = "127.0.0.2"


class Witness:
    def __init__(self) -> None:
        self._socket = socket.create_server((ADDRESS, 0))
        self._socket.settimeout(0.5)
        self.port = self._socket.getsockname()[1]
        self.connections: list[str] = []  # each peer, as it connects
        self.requests: list[str] = []  # the first line of each request that followed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{ADDRESS}:{self.port}"

    def start(self) -> "Witness":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, peer = self._socket.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            threading.Thread(target=self._record, args=(connection, peer), daemon=True).start()

    def _record(self, connection: socket.socket, peer: tuple) -> None:
        self.connections.append(f"{peer[0]}:{peer[1]}")
        with connection:
            connection.settimeout(2.0)
            try:
                data = connection.recv(2048)
            except OSError:
                data = b""
            if data:
                self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                try:
                    connection.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass
