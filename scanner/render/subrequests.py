"""Every request a page makes while it renders passes here (`SubrequestGate.fetch`), never Chromium's
own network stack: the browser is started with a host resolver that resolves nothing, and each
request is intercepted and answered from what this gate fetched.

The gate applies the one egress policy through the one HTTP client (`scanner.net.http.EgressClient`):
http/https only, no loopback, private, link-local, metadata or other internal address in any spelling,
checked on every redirect hop and every DNS answer, a total deadline and a size cap per response. On
top of that, per rendered page: only GET and HEAD (a render reads a page; it never posts a form or
calls an API with a body), at most ``render.max_subrequests`` requests and ``render.max_total_bytes``
bytes of responses, and no download (a navigation answered with an attachment is refused; the
browser context also refuses downloads). Every response received (redirect hops included) is kept in ``exchanges`` so the
caller records it as evidence, like any exchange of a crawl.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from scanner.config import Settings
from scanner.evidence.exchange import HttpExchange
from scanner.net.egress import EgressPolicy, EgressRefused
from scanner.net.http import EgressClient, Exchange, FetchError
from scanner.net.vantage import DIRECT, Vantage

FETCHED_METHODS = frozenset({"GET", "HEAD"})
# Not handed to the browser: the body it gets is already de-chunked and decoded.
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


class SubrequestRefused(Exception):
    """The gate will not fetch this request; ``reason`` is a short word for the run's counters."""

    def __init__(self, url: str, reason: str, detail: str):
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail


@dataclass
class Fetched:
    status: int
    headers: list[tuple[str, str]]  # for the browser (no content or transfer coding)
    body: bytes  # decoded


@dataclass
class SubrequestGate:
    """One per rendered page; thread-safe (Playwright's route handlers run fetches in threads)."""

    settings: Settings
    policy: EgressPolicy
    exchanges: list[HttpExchange] = field(default_factory=list)  # for EvidenceRecorder.record_many
    vantage: Vantage = DIRECT  # sub-requests leave through the rendered response's vantage point
    refused: list[SubrequestRefused] = field(default_factory=list)
    requests: int = 0
    total_bytes: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def _refuse(self, url: str, reason: str, detail: str) -> SubrequestRefused:
        refused = SubrequestRefused(url, reason, detail)
        with self._lock:
            self.refused.append(refused)
        return refused

    def admit(self, method: str, url: str) -> None:
        """Raise `SubrequestRefused` unless the request may be fetched (policy and budgets)."""
        budget = self.settings.render
        if method.upper() not in FETCHED_METHODS:
            raise self._refuse(url, "method", f"{method} is not sent while rendering (GET and HEAD only)")
        try:
            self.policy.check_url(url)
        except EgressRefused as exc:
            raise self._refuse(url, exc.reason, exc.detail) from None
        with self._lock:
            if self.requests >= budget.max_subrequests:
                over = True
            else:
                over = False
                self.requests += 1
        if over:
            raise self._refuse(
                url, "budget", f"more than {budget.max_subrequests} sub-requests (max_subrequests)"
            )

    def fetch(self, method: str, url: str, *, navigation: bool = False) -> Fetched:
        """Fetch ``url`` as the policy allows (blocking; call it in a thread). A ``navigation`` whose
        answer is a download (``Content-Disposition: attachment``) is refused: nothing is saved."""
        self.admit(method, url)
        observed: list[Exchange] = []
        # One client per request: EgressClient is not thread-safe, and route handlers run concurrently.
        with EgressClient(self.settings, policy=self.policy, vantage=self.vantage) as client:
            try:
                exchange = client.fetch(method.upper(), url, observe=observed.append)
            except EgressRefused as exc:  # a redirect hop or a DNS answer the policy refuses
                self._keep(observed)
                raise self._refuse(url, exc.reason, exc.detail) from None
            except FetchError as exc:
                self._keep(observed)
                raise self._refuse(url, "fetch", exc.problem) from None
            self._keep(observed)
            body = exchange.decoded(self.settings.http.max_response_bytes)
        limit = self.settings.render.max_total_bytes
        with self._lock:
            self.total_bytes += len(body)
            over = self.total_bytes > limit
        if over:
            raise self._refuse(
                url, "budget", f"sub-responses larger than {limit} bytes together (max_total_bytes)"
            )
        if navigation and exchange.header("content-disposition").strip().lower().startswith("attachment"):
            raise self._refuse(url, "download", "a download (Content-Disposition: attachment) is not saved")
        headers = [(k, v) for k, v in exchange.headers if k.lower() not in _DROPPED_HEADERS]
        return Fetched(exchange.status, headers, body)

    def _keep(self, observed: list[Exchange]) -> None:
        with self._lock:
            self.exchanges.extend(exchange.evidence() for exchange in observed)
