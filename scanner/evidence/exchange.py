"""What the evidence recorder takes: an HTTP exchange as received, or a page rendered from one.

Every fetcher (the crawl's capture middleware, the shared egress client used by pollers,
re-verification and the renderer's sub-requests) hands the recorder one of these, so the shape is
written once; `scanner.evidence.verify.read_exchange` reads the same fields back from the WARC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def header_value(headers: list[tuple[str, str]], name: str) -> str:
    """The first of (name, value) ``headers`` called ``name`` (any case), or ""."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), "")


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """One request and its response, headers and body exactly as they went over the wire."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    final_url: str
    status: int
    reason: str | None
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    remote_ip: str | None
    # The vantage point it was fetched through (scanner.net.vantage), None for a direct fetch.
    vantage: str | None = None
    vantage_country: str | None = None

    def header(self, name: str) -> str:
        """The first response header called ``name`` (any case), or ""."""
        return header_value(self.response_headers, name)


@dataclass(frozen=True, slots=True)
class PageRendering:
    """The DOM and full-page screenshot Chromium made of a recorded response (``refers_to``)."""

    url: str
    final_url: str
    status: int
    refers_to: str  # the WARC-Record-ID of the response it renders
    refers_to_date: datetime
    dom: bytes
    screenshot: bytes
    rendered_at: datetime
    info: dict[str, str] | None = None
    vantage: str | None = None  # of the response it renders (its sub-requests went through it too)
    vantage_country: str | None = None
