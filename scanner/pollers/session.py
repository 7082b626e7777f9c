"""The HTTP client every adapter shares: politeness, retries, size limits and evidence.

- Proxies come from the environment as requests reads them (``HTTP_PROXY``/``HTTPS_PROXY``); the
  simulated web is reached that way.
- At most ``settings.p2p.requests_per_second`` requests per second, per client.
- 429 and 5xx are retried ``settings.http.retries`` times, waiting what ``Retry-After`` says (seconds
  or an HTTP date) or an exponential backoff; a ``Retry-After`` longer than ``MAX_WAIT_SECONDS`` fails
  the poll rather than stalling it.
- Bodies larger than ``settings.http.max_response_bytes`` (raw or decoded) fail the poll.
- Every response received (including the 429s and error pages) is written to evidence through the
  `EvidenceRecorder` BEFORE anything is derived from it; the body recorded is the payload as
  received, before content decoding. A request that got no response at all (refused, timed out)
  has nothing to record and appears only in the run's error summary.
"""

from __future__ import annotations

import json
import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
import urllib3

from scanner.config import Settings
from scanner.net.retry_after import retry_after_seconds
from scanner.store.models import utcnow

if TYPE_CHECKING:
    from scanner.evidence.recorder import EvidenceRecorder

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Brotli/zstd are not requested: we must be able to decode every body we keep as evidence.
ACCEPT_ENCODING = "gzip, deflate"
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


def _decode(body: bytes, encoding: str, limit: int) -> bytes:
    """Remove gzip/deflate content-encoding, refusing to inflate beyond ``limit`` bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj(zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS)
    else:
        raise ValueError(f"unsupported content-encoding {encoding!r}")
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"corrupt {encoding} body ({exc})") from None
    if len(out) > limit:
        raise ValueError(f"decoded body larger than {limit} bytes")
    return out


def _peer_ip(response: requests.Response) -> str | None:
    """Address of the server (or proxy) that answered; best effort, urllib3 keeps it private."""
    try:
        sock = response.raw._connection.sock  # type: ignore[union-attr]
        return str(sock.getpeername()[0])
    except Exception:  # noqa: BLE001 - evidence keeps None when the socket is already gone
        return None


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    http_seconds: float = 0.0  # waiting for and reading responses
    waited_seconds: float = 0.0  # rate limiting and Retry-After sleeps
    bytes_received: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class HttpClient:
    """requests.Session with the pollers' politeness rules; one per poll run (not thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        recorder: EvidenceRecorder | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_SECONDS,
    ):
        self.settings = settings
        self.recorder = recorder
        self.sleep = sleep
        self.max_wait = max_wait
        self.min_interval = 1.0 / settings.p2p.requests_per_second
        self.stats = ClientStats()
        self._next_allowed = 0.0
        self.session = requests.Session()  # trust_env: proxies from HTTP_PROXY/HTTPS_PROXY/NO_PROXY
        self.session.max_redirects = settings.http.max_redirects
        self.session.headers.update(
            {
                "User-Agent": settings.http.user_agent,
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
            }
        )

    def close(self) -> None:
        self.session.close()

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
            except requests.RequestException as exc:
                if attempt < retries:
                    self.stats.retries += 1
                    self._wait(BACKOFF_BASE_SECONDS * 2**attempt)
                    continue
                raise PollError(f"no response ({type(exc).__name__}: {exc})", method=method, url=url) from None
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
        limit = self.settings.http.max_response_bytes
        started = time.perf_counter()
        fetched_at = utcnow()
        response = self.session.request(
            method, url, params=params, json=json_body, timeout=self.settings.http.timeout_seconds, stream=True
        )
        try:
            remote_ip = _peer_ip(response)
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.raw.stream(65536, decode_content=False):
                    size += len(chunk)
                    if size > limit:
                        raise PollError(
                            f"response larger than {limit} bytes (max_response_bytes)", method=method, url=response.url
                        )
                    chunks.append(chunk)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                # A body cut short is a failed exchange like a refused connection: retried, not recorded.
                raise requests.ConnectionError(f"response body cut short after {size} bytes ({exc})") from None
            raw = b"".join(chunks)
        finally:
            response.close()
        self.stats.http_seconds += time.perf_counter() - started
        self.stats.requests += 1
        self.stats.bytes_received += len(raw)
        self.stats.statuses[response.status_code] = self.stats.statuses.get(response.status_code, 0) + 1
        headers = [(k, v) for k, v in response.raw.headers.items()]
        request = response.request
        # After redirects, evidence keeps the URL asked for; final_url says where the answer came from.
        asked = response.history[0].request if response.history else request
        capture_id = None
        if self.recorder is not None:
            body = request.body
            capture = self.recorder.record(
                method=method,
                url=asked.url or url,
                request_headers=list(request.headers.items()),
                request_body=body.encode() if isinstance(body, str) else body,
                final_url=response.url,
                status=response.status_code,
                reason=response.reason,
                response_headers=headers,
                body=raw,
                fetched_at=fetched_at,
                remote_ip=remote_ip,
            )
            capture_id = capture.id
        try:
            decoded = _decode(raw, response.headers.get("Content-Encoding", ""), limit)
        except ValueError as exc:
            raise PollError(str(exc), method=method, url=response.url) from None
        return Fetched(method, response.url, response.status_code, response.reason or "", headers, decoded, capture_id)
