"""What every HTTP server of the simulated web shares (the world itself, its Pakistani exit)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no access log, no Nagle delay."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass
