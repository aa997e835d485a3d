"""A WSGI app on real loopback sockets (threaded wsgiref, ephemeral port) for tests that need HTTP."""
from __future__ import annotations

import socketserver
import threading
from typing import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["serve_wsgi"]


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:   # keep pytest output clean
        pass


def serve_wsgi(app) -> tuple[str, Callable[[], None]]:
    """Start serving ``app`` on 127.0.0.1; returns its base URL and a function that stops it."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name="occi-test-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop
