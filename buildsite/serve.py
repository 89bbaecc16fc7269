"""The development server: the built site on localhost with the MIME types Pyodide needs
(application/wasm, wheels as zip) and no caching, so an edit shows on the next load. It
adds no isolation headers by default, like a static host: the service worker adds those."""

from __future__ import annotations

import http.server
import os
import sys
from pathlib import Path

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}


def make_handler(root: Path, extra_headers: dict[str, str] | None = None) -> type[http.server.SimpleHTTPRequestHandler]:
    """A request handler class serving root (subclass it to record or change what it serves)."""
    root = Path(root).resolve()

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
        protocol_version = "HTTP/1.1"    # keep-alive: a page load fetches ~100 files

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def end_headers(self):
            self.send_header("Cache-Control", "no-cache")
            for k, v in (extra_headers or {}).items():
                self.send_header(k, v)
            super().end_headers()

        def log_message(self, fmt, *args):  # quiet unless asked
            if os.environ.get("LOCALYST_SERVE_LOG"):
                super().log_message(fmt, *args)

    return Handler


class SiteServer(http.server.ThreadingHTTPServer):
    """A threading server that does not print a traceback each time a client hangs up."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a browser (or curl | head) hanging up mid-file is not an error worth a traceback
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000,
                extra_headers: dict[str, str] | None = None) -> SiteServer:
    """A threading HTTP server for root (port 0 picks a free port: see server.server_address).
    Run it with serve_forever() (in a thread if you like) and stop it with shutdown() and
    server_close(). extra_headers are added to every response (none by default: the
    service worker is what adds COOP/COEP on a static host, and local serving should not
    hide its mistakes)."""
    return SiteServer((host, port), make_handler(root, extra_headers))
