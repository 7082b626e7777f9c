"""The items spiders yield: a fetched page, and a platform discovery found in a link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.observation import Observation


@dataclass
class PageItem:
    url: str  # final URL of the response
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # decoded content (content encoding undone)
    content_type: str
    capture_id: int | None  # the Capture holding this response as evidence
    target: str | None = None
    replayed: bool = False  # served from evidence of an interrupted run, not fetched again
    vantage: str | None = None  # the vantage point it was fetched through (None: direct)
    observation: Observation | None = field(
        default=None, repr=False
    )  # set by DetectionPipeline (inline detection)
    stored: bool = False  # detected and stored by the detection worker


@dataclass
class CandidateItem:
    url: str  # the outbound link
    found_on_url: str  # the page that links to it
    source: str = "link"  # "link": the discovery crawl's outbound links; "crawl-links": a site crawl's
    capture_id: int | None = None  # the capture of the page that links to it


def page_item(response: Any, target: str | None = None) -> PageItem:
    """The PageItem for a Scrapy response (what both spiders yield)."""
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in response.headers.items()
        for value in values
    ]
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return PageItem(
        url=response.url,
        status=response.status,
        headers=headers,
        body=response.body,
        content_type=content_type,
        capture_id=response.meta.get("capture_id"),
        target=target,
        replayed="pkscan-replayed" in response.flags,
        vantage=response.meta.get("vantage") or None,
    )
