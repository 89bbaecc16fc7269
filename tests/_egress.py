"""A proxy that records every request aimed off this machine and refuses it, and a
witness on another loopback address.

Chromium is started with this as its proxy. Loopback requests bypass proxies, so they go
straight to the test servers; anything else — from the page, a worker or the service
worker, whatever API made it — arrives here, is recorded and is answered 403. What
bypasses the proxy to another loopback address reaches ``witness`` (tests/_witness.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests._witness import Witness


@dataclass(frozen=True)
class Attempt:
    method: str
    target: str

    @property
    def host(self) -> str:
        """The host asked for: CONNECT names host:port, a plain proxy request a full URL."""
        return urlsplit("//" + self.target.split("://")[-1]).hostname or ""


class _Handler(BaseHTTPRequestHandler):
    server: "EgressRecorder"

    def _refuse(self) -> None:
        self.server.attempts.append(Attempt(self.command, self.path))
        self.send_response(403, "Localyst tests: no requests off this machine")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_CONNECT = _refuse

    def log_message(self, format: str, *args: object) -> None:
        pass


class EgressRecorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.attempts: list[Attempt] = []
        self.witness = Witness()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def start(self) -> "EgressRecorder":
        self._thread.start()
        self.witness.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.witness.stop()
