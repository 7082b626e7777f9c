"""What a source adapter works with: the context, the leads it yields, strict field access.

An adapter module (one per public service) defines ``discover(ctx) -> Iterator[Lead]``. It knows
its URLs and the response shape and nothing else: HTTP (egress policy, deadline, size caps, retries,
``Retry-After``), evidence, the request budget, deduplication against what is already known and
storage are shared (`scanner.discovery.runner`). JSON fields are read through
`scanner.pollers.base.Fields`, so a renamed field fails the run with a message naming it, and
nothing of that run is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.config import DiscoveryWords, Settings, SourceTarget
from scanner.pollers.base import Fields, SchemaError
from scanner.pollers.session import Fetched, HttpClient, PollError

__all__ = ["Fields", "Lead", "PollError", "SchemaError", "SourceContext", "SourceError"]


class SourceError(PollError):
    """The source cannot give a trustworthy list of leads; str() names the request and the problem."""


@dataclass(frozen=True)
class Lead:
    """A platform worth crawling: its URL, where and when it was named, and why it is interesting."""

    url: str
    found_on_url: str  # the response (API page, channel, list) that named it
    reason: str
    capture_id: int | None = None
    seen_at: datetime | None = None  # when the source says it appeared (certificate, message), if it does


@dataclass
class SourceContext:
    """Everything one adapter call needs."""

    target: SourceTarget
    settings: Settings
    words: DiscoveryWords
    client: HttpClient
    # hosted platforms already known (``t.me/name``, from crawled pages and earlier runs), so a source
    # can start from what the crawls saw, not only from its configured ``queries``
    hosted: list[str] = field(default_factory=list)
    fetched: list[Fetched] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return str(self.target.base_url).rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def budget_left(self) -> bool:
        """False once ``max_requests`` were sent; the run notes that it stopped early."""
        if len(self.fetched) < self.target.max_requests:
            return True
        note = f"stopped at max_requests={self.target.max_requests}"
        if note not in self.notes:
            self.notes.append(note)
        return False

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Fetched:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        fetched = self.client.request("GET", url, params=params)
        self.fetched.append(fetched)
        return fetched

    def json(self, fetched: Fetched) -> Any:
        return fetched.json()

    def fields(self, data: Any, where: str, fetched: Fetched) -> Fields:
        return Fields(data, where, fetched)

    def lead(self, url: str, fetched: Fetched, reason: str, seen_at: datetime | None = None) -> Lead:
        return Lead(
            url=url, found_on_url=fetched.url, reason=reason, capture_id=fetched.capture_id, seen_at=seen_at
        )

    def text(self, fetched: Fetched) -> str:
        """The body as text (HTML, CSV), decoded as UTF-8 with replacement: a source never crashes on bytes."""
        return fetched.body.decode("utf-8", "replace")
