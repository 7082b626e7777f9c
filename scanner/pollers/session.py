"""The HTTP client every adapter shares: politeness, retries, size limits and evidence.

- Requests go through `scanner.net.http.EgressClient` (the one client of pollers, ``reverify`` and
  ``analyze``): the egress policy on every hop and at connect time, redirects within the API's host
  only (unless ``egress.api_cross_host_redirects``), a total deadline per response
  (``http.timeout_seconds``). A refused URL, proxy or redirect fails the poll at once, naming why.
- Proxies come from the environment as requests reads them (``HTTP_PROXY``/``HTTPS_PROXY``); the
  simulated web is reached that way. A target's vantage point (``vantage:``, `scanner.net.vantage`)
  replaces them with its proxy, and every capture records it.
- At most ``settings.p2p.requests_per_second`` requests per second, per client.
- 429 and 5xx are retried ``settings.http.retries`` times, waiting what ``Retry-After`` says (seconds
  or an HTTP date) or an exponential backoff; a ``Retry-After`` longer than ``MAX_WAIT_SECONDS`` fails
  the poll rather than stalling it.
- Bodies larger than ``settings.http.max_response_bytes`` (raw or decoded) fail the poll.
- Every response received (including the 429s, error pages and redirects) is written to evidence through the
  `EvidenceRecorder` BEFORE anything is derived from it; the body recorded is the payload as
  received, before content decoding. A request that got no response at all (refused, timed out)
  has nothing to record and appears only in the run's error summary.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scanner.config import Config, Settings
from scanner.net.egress import EgressRefused
from scanner.net.http import EgressClient, Exchange, FetchError
from scanner.net.retry_after import retry_after_seconds
from scanner.net.vantage import DIRECT, Vantage

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from scanner.evidence.recorder import EvidenceRecorder

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REFUSAL = {401: "unauthorised", 403: "refused or geo-blocked", 451: "unavailable for legal reasons (geo-block)"}


class PollError(Exception):
    """The poll cannot produce a trustworthy snapshot. str() names the request and the problem."""

    def __init__(self, problem: str, *, method: str | None = None, url: str | None = None):
        self.problem = problem
        self.method = method
        self.url = url
        where = f"{method} {url}: " if method and url else (f"{url}: " if url else "")
        super().__init__(f"{where}{problem}")


@dataclass
class Fetched:
    """One HTTP response as received, with the capture that holds it as evidence."""

    method: str
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes  # decoded (content-encoding removed)
    capture_id: int | None = None
    vantage: str | None = None  # the vantage point it was fetched through (None: direct)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""

    def fail(self, problem: str) -> PollError:
        return PollError(problem, method=self.method, url=self.url)

    def json(self) -> Any:
        """The parsed body; an HTML page or malformed JSON is a `PollError`, never a silent empty list."""
        text = self.body.lstrip()[:200].lower()
        if "html" in self.content_type.lower() or text.startswith((b"<!doctype", b"<html", b"<")):
            title = _html_title(self.body)
            raise self.fail(
                f"HTML page instead of JSON (HTTP {self.status}, content-type "
                f"{self.content_type or 'missing'}{', title ' + repr(title) if title else ''})"
            )
        if not self.body.strip():
            raise self.fail(f"empty body instead of JSON (HTTP {self.status})")
        try:
            return json.loads(self.body)
        except UnicodeDecodeError as exc:
            raise self.fail(f"malformed JSON: not UTF-8 ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise self.fail(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            # arrays or objects nested thousands deep: Python's parser recurses per level
            raise self.fail("malformed JSON: nested too deep to parse") from None
        except ValueError as exc:  # an integer of more than 4,300 digits (int's conversion limit)
            raise self.fail(f"malformed JSON: {exc}") from None


def _html_title(body: bytes) -> str:
    lower = body[:4096].lower()
    start = lower.find(b"<title>")
    end = lower.find(b"</title>", start)
    if start < 0 or end < 0:
        return ""
    return body[start + 7 : end].decode("utf-8", "replace").strip()[:80]


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.DOTALL | re.IGNORECASE)


def _excerpt(body: bytes, limit: int = 160) -> str:
    """The gist of an error page (tags and whitespace removed), for the run's error summary."""
    text = _TAG.sub(" ", body[:8192].decode("utf-8", "replace"))
    return " ".join(text.split())[:limit]


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    http_seconds: float = 0.0  # waiting for and reading responses
    waited_seconds: float = 0.0  # rate limiting and Retry-After sleeps
    bytes_received: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class HttpClient:
    """The egress client (scanner.net.http) with the pollers' politeness rules; one per poll run (not thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        recorder: EvidenceRecorder | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_SECONDS,
        vantage: Vantage = DIRECT,
    ):
        self.settings = settings
        self.recorder = recorder
        self.sleep = sleep
        self.max_wait = max_wait
        self.min_interval = 1.0 / settings.p2p.requests_per_second
        self.stats = ClientStats()
        self._next_allowed = 0.0
        self.http = EgressClient(settings, api=True, headers={"Accept": "application/json"}, vantage=vantage)

    def close(self) -> None:
        self.http.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(seconds)
            self.stats.waited_seconds += seconds

    def _throttle(self) -> None:
        now = time.monotonic()
        if now < self._next_allowed:
            self._wait(self._next_allowed - now)
        self._next_allowed = time.monotonic() + self.min_interval

    def request(
        self, method: str, url: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Fetched:
        """Send with retries; returns a 2xx response (already recorded) or raises `PollError`."""
        retries = self.settings.http.retries
        for attempt in range(retries + 1):
            self._throttle()
            try:
                fetched = self._send_once(method, url, params, json_body)
            except EgressRefused as refused:
                raise PollError(str(refused), method=method, url=url) from None
            except FetchError as exc:
                if exc.retryable and attempt < retries:
                    self.stats.retries += 1
                    self._wait(BACKOFF_BASE_SECONDS * 2**attempt)
                    continue
                problem = f"no response ({exc.problem})" if exc.retryable else exc.problem
                raise PollError(problem, method=method, url=exc.url) from None
            if fetched.status in RETRY_STATUSES and attempt < retries:
                wait = retry_after_seconds(dict((k.lower(), v) for k, v in fetched.headers).get("retry-after"))
                if wait is None:
                    wait = BACKOFF_BASE_SECONDS * 2**attempt
                if wait > self.max_wait:
                    raise fetched.fail(
                        f"HTTP {fetched.status} with Retry-After {wait:.0f} s, longer than the "
                        f"{self.max_wait:.0f} s a poll waits"
                    )
                log.info("retrying after HTTP %s", fetched.status, extra={"url": fetched.url, "wait": wait})
                self.stats.retries += 1
                self._wait(wait)
                continue
            if not 200 <= fetched.status < 300:
                meaning = _REFUSAL.get(fetched.status, fetched.reason or "error")
                if fetched.status in RETRY_STATUSES:
                    meaning += f", still after {retries} retries"
                said = _excerpt(fetched.body)
                raise fetched.fail(f"HTTP {fetched.status} {meaning}" + (f" (the server said: {said!r})" if said else ""))
            return fetched
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _send_once(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Fetched:
        captures: list[int | None] = []

        def observe(exchange: Exchange) -> None:
            """Count and record each response (redirects too) before anything is derived from it."""
            self.stats.requests += 1
            self.stats.bytes_received += len(exchange.body)
            self.stats.statuses[exchange.status] = self.stats.statuses.get(exchange.status, 0) + 1
            if self.recorder is not None:
                captures.append(self.recorder.record(exchange.evidence()).id)

        started = time.perf_counter()
        try:
            exchange = self.http.fetch(method, url, params=params, json_body=json_body, observe=observe)
        finally:
            self.stats.http_seconds += time.perf_counter() - started
        decoded = exchange.decoded(self.settings.http.max_response_bytes)
        capture_id = captures[-1] if captures else None
        return Fetched(
            method, exchange.url, exchange.status, exchange.reason, exchange.headers, decoded, capture_id,
            exchange.vantage.recorded,
        )  # fmt: skip


@contextmanager
def recorded_client(
    config: Config,
    engine: Engine | None,
    run_id: int | None,
    *,
    vantage: Vantage = DIRECT,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[HttpClient]:
    """The client an API run (a poll, a discovery source) fetches with: every response it receives is
    recorded as evidence of ``run_id`` before anything is derived from it (nothing is recorded without
    an engine: a dry run). Client and recorder are closed at the end; the client's stats stay readable."""
    from scanner.evidence.recorder import EvidenceRecorder

    recorder = None
    if engine is not None:
        recorder = EvidenceRecorder(engine, config.data_dir, config.settings.warc_max_bytes, run_id=run_id)
    try:
        client = HttpClient(config.settings, recorder, sleep=sleep, vantage=vantage)
        try:
            yield client
        finally:
            client.close()
    finally:
        if recorder is not None:
            recorder.close()
