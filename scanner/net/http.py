"""The one requests-based HTTP client (pollers, ``scanner reverify``, ``scanner analyze``), built on
the egress policy (`scanner.net.egress`).

- Before each request and each redirect hop the URL passes `EgressPolicy.check_url` (and its
  proxy passes `EgressPolicy.check_proxy`: the client's vantage point's, `scanner.net.vantage`, else
  the one the environment names for it). Redirects are followed here, hop
  by hop, never by requests: a crawl-like client may change host within the policy, an API client
  (``api=True``) stays on its host unless ``egress.api_cross_host_redirects`` says otherwise.
- At connect time the connection resolves the name through `EgressPolicy.resolve` (every address
  checked) and connects to one of those checked addresses; through an HTTP proxy only the proxy's
  address is resolved and checked (the proxy resolves target names).
- A **total deadline** per response (``http.timeout_seconds``: connect + headers + body): a watchdog
  shuts the socket down when it passes, so a server sending one byte a second ends there, where
  requests' per-read timeout would wait forever.
- The body is read raw (content-encoded, as evidence keeps it) up to ``http.max_response_bytes``;
  `Exchange.decoded` inflates gzip/deflate refusing to go beyond the same limit (gzip bombs).
- Every response received, redirects included, is handed to ``observe`` (the evidence recorder)
  before the next hop is decided, so a hostile redirect is kept as evidence even when refused.
- The response head has the crawl's limits (`scanner.net.head`): more fields, a longer line or a
  larger head is refused, not retried, in the crawl's words.
- Interim (1xx) responses are read past to the final one, as browsers and Twisted do (http.client
  skips 100 Continue only); together their heads have the same limits as one head.

Proxies come from the environment as requests reads them (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import requote_uri
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from scanner.config import Settings
from scanner.evidence.decoding import DecodedTooLarge, StackBudget, StackTooLarge, inflater, split_codings
from scanner.evidence.exchange import HttpExchange
from scanner.net.egress import EgressPolicy, EgressRefused, EgressUnresolvable, environment_proxy
from scanner.net.head import (
    MAX_RESPONSE_HEAD_BYTES,
    MAX_RESPONSE_HEADER_FIELDS,
    MAX_RESPONSE_HEADER_LINE,
    head_too_large,
    line_too_long,
    too_many_fields,
)
from scanner.net.vantage import DIRECT, Vantage
from scanner.store.models import utcnow

# http.client reads every response head of this process with these module-wide limits (its own are
# 100 fields and 64 KiB a line); there is no per-connection setting.
http.client._MAXHEADERS = MAX_RESPONSE_HEADER_FIELDS  # type: ignore[attr-defined]
http.client._MAXLINE = MAX_RESPONSE_HEADER_LINE  # type: ignore[attr-defined]

# Brotli/zstd are not asked for; a site sending them anyway is read as browsers read it (decode_body).
ACCEPT_ENCODING = "gzip, deflate"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """No usable response. str() names the URL and the problem; ``retryable`` says whether trying
    again may help (a dropped connection may, an oversized body will not)."""

    def __init__(self, url: str, problem: str, *, retryable: bool = True):
        self.url = url
        self.problem = problem
        self.retryable = retryable
        super().__init__(f"{url}: {problem}")


class DeadlineExceeded(FetchError):
    pass


def decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo the content codings a Content-Encoding value names as browsers and the crawl do (gzip,
    deflate, br, zstd, whoever asked for them; stacked ones last applied first; under one not known,
    the body as it is), refusing a layer that inflates beyond ``limit`` bytes and layers beyond
    `STACK_BUDGET` times it in all, a block at a time (in time linear in the body whatever its gzip
    members: `scanner.evidence.decoding`)."""
    undo, _ = split_codings(encoding)
    budget = StackBudget(limit)
    for coding in undo:
        inflate = inflater(coding, body[:1])
        assert inflate is not None  # split_codings keeps only known codings to undo
        out = bytearray()
        try:
            for piece in inflate(body):
                out += piece
                if len(out) > limit:
                    raise DecodedTooLarge(f"decoded body larger than {limit} bytes (max_response_bytes)")
        except DecodedTooLarge:
            raise
        except Exception as exc:  # noqa: BLE001 - zlib.error, brotli.error, ZstdError
            raise ValueError(f"corrupt {coding} body ({exc})") from None
        try:
            budget.spend(len(out))
        except StackTooLarge as exc:
            raise StackTooLarge(f"{exc} ({len(undo)} layers; max_response_bytes)") from None
        body = bytes(out)
    return body


@dataclass
class Exchange:
    """One HTTP response as received (body still content-encoded), with the request that got it."""

    method: str
    url: str
    status: int
    reason: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    headers: list[tuple[str, str]]
    body: bytes
    remote_ip: str | None
    fetched_at: datetime
    seconds: float
    history: list[Exchange] = field(default_factory=list)  # the redirects that led here
    vantage: Vantage = DIRECT  # where it was fetched from (recorded with the evidence)

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type")

    def evidence(self) -> HttpExchange:
        """This exchange (one hop, as received) for `EvidenceRecorder.record`."""
        return HttpExchange(
            method=self.method, url=self.url, request_headers=self.request_headers,
            request_body=self.request_body, final_url=self.url, status=self.status, reason=self.reason,
            response_headers=self.headers, body=self.body, fetched_at=self.fetched_at, remote_ip=self.remote_ip,
            vantage=self.vantage.recorded, vantage_country=self.vantage.country,
        )  # fmt: skip

    def decoded(self, limit: int) -> bytes:
        """The payload without content-encoding; a bomb or a corrupt stream is a `FetchError`."""
        try:
            return decode_body(self.body, self.header("content-encoding"), limit)
        except ValueError as exc:
            raise FetchError(self.url, str(exc), retryable=False) from None


# ---------------------------------------------------------------- the response head


class _HeadTooLarge(http.client.HTTPException):
    pass


class _FinalResponse(http.client.HTTPResponse):
    """http.client's response that reads past every interim (1xx) response to the final one, as
    browsers and Twisted do. http.client skips 100 Continue only: a 102 or 103 before the page was
    taken for the answer (an empty body), so `scanner analyze` cleared a flagged site and `reverify`
    saw its page "changed" to nothing. The interim heads together have the limits of one head
    (`scanner.net.head`; the crawl counts them with the final head): an endless stream of them kept a
    core busy until the deadline. 101 Switching Protocols is final (we never ask for an upgrade)."""

    def _read_status(self) -> tuple[str, int, str]:
        head_bytes = head_fields = 0
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            lines = http.client._read_headers(self.fp)  # type: ignore[attr-defined] # 16 KB a line, 1,000 fields
            head_bytes += len(version) + len(reason) + 5 + sum(map(len, lines))
            head_fields += len(lines) - 1  # the blank line ending the head
            if head_fields > MAX_RESPONSE_HEADER_FIELDS:
                raise http.client.HTTPException(f"got more than {MAX_RESPONSE_HEADER_FIELDS} headers")
            if head_bytes > MAX_RESPONSE_HEAD_BYTES:
                raise _HeadTooLarge(head_too_large())


# ---------------------------------------------------------------- connect-time policy and deadline

_local = threading.local()


class _Deadline:
    """Total time for one response. When it passes, the sockets in use are shut down, which ends a
    blocked read at once (a timeout per read would be reset by every byte)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> _Deadline:
        _local.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.deadline = None


class _PolicyConnectionMixin:
    """urllib3 connection that resolves through the egress policy and connects to a checked address."""

    response_class = _FinalResponse
    policy: EgressPolicy
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    proxy: Any

    def _new_conn(self) -> socket.socket:
        proxied = self.proxy is not None  # then self.host is the proxy's
        host = self.host
        try:
            addresses = self.policy.resolve(host, f"//{host}:{self.port}", proxy=proxied)
        except EgressUnresolvable as exc:
            raise NameResolutionError(host, self, socket.gaierror(exc.detail)) from None  # type: ignore[arg-type]
        deadline: _Deadline | None = getattr(_local, "deadline", None)
        timeout = self.timeout
        if deadline is not None:
            timeout = (
                min(timeout, deadline.remaining())
                if isinstance(timeout, int | float)
                else deadline.remaining()
            )
        failure: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port), timeout, source_address=self.source_address,
                    socket_options=self.socket_options,
                )  # fmt: skip
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connection to {host} timed out ({timeout:g} s)") from exc
            except OSError as exc:
                failure = exc
        raise NewConnectionError(self, f"failed to establish a new connection: {failure}")  # type: ignore[arg-type]


class _WatchedPoolMixin:
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        deadline: _Deadline | None = getattr(_local, "deadline", None)
        if deadline is not None:
            deadline.watch(connection)
        return connection


def _pool_classes(policy: EgressPolicy) -> dict[str, type]:
    http = type("PolicyHTTPConnection", (_PolicyConnectionMixin, HTTPConnection), {"policy": policy})
    https = type("PolicyHTTPSConnection", (_PolicyConnectionMixin, HTTPSConnection), {"policy": policy})
    return {
        "http": type(
            "PolicyHTTPConnectionPool", (_WatchedPoolMixin, HTTPConnectionPool), {"ConnectionCls": http}
        ),
        "https": type(
            "PolicyHTTPSConnectionPool", (_WatchedPoolMixin, HTTPSConnectionPool), {"ConnectionCls": https}
        ),
    }


class _PolicyAdapter(HTTPAdapter):
    def __init__(self, policy: EgressPolicy):
        self._pool_classes = _pool_classes(policy)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self._pool_classes
        return manager


def _peer_ip(response: requests.Response) -> str | None:
    """Address of the server (or proxy) that answered; best effort, urllib3 keeps it private."""
    try:
        sock = response.raw._connection.sock  # type: ignore[union-attr]
        return str(sock.getpeername()[0])
    except Exception:  # noqa: BLE001 - evidence keeps None when the socket is already gone
        return None


# ---------------------------------------------------------------- the client


class EgressClient:
    """requests.Session behind the egress policy; one per run or command (not thread-safe).

    ``vantage``: fetch through that vantage point's proxy (`scanner.net.vantage`) instead of the
    environment's; its address passes the policy like any proxy, and each exchange carries it."""

    def __init__(self, settings: Settings, *, api: bool = False, headers: dict[str, str] | None = None,
                 policy: EgressPolicy | None = None, vantage: Vantage = DIRECT):  # fmt: skip
        http = settings.http
        self.vantage = vantage
        # Per request, not on the session: requests lets the environment's proxies override a session's.
        self._proxies = {"http": vantage.proxy, "https": vantage.proxy} if vantage.proxy else None
        self.policy = policy or EgressPolicy.from_settings(settings.egress)
        self.timeout = float(http.timeout_seconds)
        self.max_bytes = http.max_response_bytes
        self.max_redirects = http.max_redirects
        self.cross_host_redirects = not api or settings.egress.api_cross_host_redirects
        self.session = requests.Session()  # trust_env: HTTP_PROXY / HTTPS_PROXY / NO_PROXY apply
        adapter = _PolicyAdapter(self.policy)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": http.user_agent, "Accept-Encoding": ACCEPT_ENCODING})
        self.session.headers.update(headers or {})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> EgressClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        observe: Callable[[Exchange], None] | None = None,
    ) -> Exchange:
        """The answer to ``method url`` after redirects (each hop checked and observed).

        Raises `EgressRefused` (a URL, proxy, address or redirect the policy refuses) or `FetchError`
        (no response within the deadline, too large, a redirect loop ...)."""
        if params:
            url = requests.Request(method, url, params=params).prepare().url or url
        history: list[Exchange] = []
        for _ in range(self.max_redirects + 1):
            self.policy.check_url(url)
            proxy = self.vantage.proxy or environment_proxy(url)
            if proxy:
                try:
                    self.policy.check_proxy(proxy)
                except EgressRefused as exc:
                    raise self._from_vantage(url, exc) from None
            exchange = self._send_once(method, url, json_body)
            exchange.history = list(history)
            if observe is not None:
                observe(exchange)
            location = exchange.header("location")
            if exchange.status not in REDIRECT_STATUSES or not location:
                return exchange
            history.append(exchange)
            target = requote_uri(urljoin(url, location.strip()))
            self.policy.check_redirect(url, target, cross_host=self.cross_host_redirects)
            if (
                exchange.status == 303
                and method != "HEAD"
                or exchange.status in (301, 302)
                and method == "POST"
            ):
                method, json_body = "GET", None
            url = target
        raise FetchError(url, f"more than {self.max_redirects} redirects (max_redirects)", retryable=False)

    def _send_once(self, method: str, url: str, json_body: Any) -> Exchange:
        fetched_at = utcnow()
        started = time.perf_counter()
        with _Deadline(self.timeout) as deadline:
            try:
                response = self.session.request(
                    method, url, json=json_body, timeout=self.timeout, stream=True, allow_redirects=False,
                    proxies=self._proxies,
                )  # fmt: skip
                try:
                    # Through a vantage proxy the peer is the proxy, not the site (as in the crawl).
                    remote_ip = None if self._proxies else _peer_ip(response)
                    body = self._read(response, url)
                finally:
                    response.close()
            except EgressRefused as exc:  # at connect time: name the URL, not the connection
                raise self._from_vantage(url, EgressRefused(url, exc.reason, exc.detail)) from None
            except FetchError:
                if deadline.expired:
                    raise self._late(url) from None
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                # A socket timeout is the deadline too (set to the whole of it): on a busy machine it
                # may fire a moment before the watchdog does.
                timed_out = isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError)
                if deadline.expired or timed_out:
                    raise self._late(url) from None
                refused = _head_refused(exc)
                if refused:
                    raise FetchError(url, refused, retryable=False) from None
                raise FetchError(url, f"no response ({type(exc).__name__}: {_short(exc)})") from None
            if deadline.expired:  # a close-delimited body cut by the watchdog looks complete
                raise self._late(url)
        headers = list(response.raw.headers.items())
        # The status line and CRLFs aside, as http.client does not count the head.
        if sum(len(name) + len(value) + 4 for name, value in headers) > MAX_RESPONSE_HEAD_BYTES:
            raise FetchError(url, head_too_large(), retryable=False)
        request = response.request
        request_body = request.body.encode() if isinstance(request.body, str) else request.body
        return Exchange(
            method=method, url=url, status=response.status_code, reason=response.reason or "",
            request_headers=list(request.headers.items()), request_body=request_body,
            headers=headers, body=body, remote_ip=remote_ip, fetched_at=fetched_at,
            seconds=time.perf_counter() - started, vantage=self.vantage,
        )  # fmt: skip

    def _from_vantage(self, url: str, refused: EgressRefused) -> EgressRefused:
        """A refusal through a vantage point names it (never the proxy's credentials)."""
        if self.vantage.direct:
            return refused
        return EgressRefused(url, refused.reason, f"vantage point {self.vantage.name!r}: {refused.detail}")

    def _late(self, url: str) -> DeadlineExceeded:
        return DeadlineExceeded(url, f"no complete response within {self.timeout:g} s (timeout_seconds)")

    def _read(self, response: requests.Response, url: str) -> bytes:
        # One buffer, not a list of what urllib3 hands over: a chunked body comes a chunk at a time,
        # and a list of one-byte chunks held ~48 bytes for each byte received.
        body = bytearray()
        try:
            for chunk in response.raw.stream(65536, decode_content=False):
                if len(body) + len(chunk) > self.max_bytes:
                    raise FetchError(url, f"response larger than {self.max_bytes} bytes (max_response_bytes)",
                                     retryable=False)  # fmt: skip
                body += chunk
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # A body cut short is a failed exchange like a refused connection: retried, not recorded.
            raise FetchError(
                url, f"response body cut short after {len(body)} bytes ({_short(exc)})"
            ) from None
        return bytes(body)


def _head_refused(exc: BaseException) -> str | None:
    """The crawl's words for a head http.client refused (too many fields, a line too long), found
    in the exception requests and urllib3 wrapped it in; None for any other failure."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, http.client.LineTooLong):
            return line_too_long()
        if isinstance(error, _HeadTooLarge):
            return head_too_large()
        if isinstance(error, http.client.HTTPException) and "got more than" in str(error):
            return too_many_fields()
        pending += [e for e in (error.__cause__, error.__context__) if e is not None]
        pending += [arg for arg in error.args if isinstance(arg, BaseException)]
    return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Failed to resolve", "NameResolutionError", "Connection refused", "timed out",
                   "Connection reset", "RemoteDisconnected"):  # fmt: skip
        if marker in text:
            return marker
    return text[:200]
