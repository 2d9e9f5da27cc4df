"""A real HTTP server on 127.0.0.1 for a WSGI app, run in a thread for the length of a test."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server

# How often the serving loop looks for a stop: serve_forever's 0.5 s default made every test with
# a live server wait up to half a second per server at its end.
POLL_SECONDS = 0.02


class LiveServer:
    """Serve a WSGI app on an ephemeral port of 127.0.0.1 in a background thread.

    The port is bound here, before anything else can take it (also under pytest-xdist)."""

    def __init__(self, wsgi_app: Any, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
        )

    def start(self) -> LiveServer:
        """Start serving; returns self."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
