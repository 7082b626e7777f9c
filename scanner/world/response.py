"""The one response type every part of the world returns to the server."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Declared Content-Length; when it exceeds the bytes sent the server closes the connection,
    # which is how a cut stream looks to a client.
    length: int | None = None
    delay: float = 0.0
    close: bool = False


def html(text: str, status: int = 200, **kw: Any) -> Response:
    return Response(status=status, body=text.encode("utf-8"), **kw)


def text(body: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status=status, body=body.encode("utf-8"), content_type=content_type)


def jsonr(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body, content_type="application/json", headers=headers or {})


def not_found(host: str, path: str) -> Response:
    return html(
        f"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
        f"<p>No page {path} on {host}.</p></body></html>",
        status=404,
    )
