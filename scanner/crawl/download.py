"""Scrapy's HTTP/1.1 download handler with a bounded response head (``DOWNLOAD_HANDLERS`` http, https).

``DOWNLOAD_MAXSIZE`` (``http.max_response_bytes``) bounds a response's body only. Twisted reads the
status line and headers with no total limit: a line is cut at 16 KB, but folded continuation lines
(`` value`` after a header) are joined into one value and the number of header fields is unbounded.
A site answering with 100 MB of folded header held 790 MB in the crawl process, and one with 2
million short headers took 25 s of CPU and 1.3 GB before the page was even parsed.

Here the head (status line, headers, continuations) is refused once it passes
`MAX_RESPONSE_HEAD_BYTES` (256 KiB, Chromium's limit for the whole header block) or
`MAX_RESPONSE_HEADER_FIELDS` (`scanner.net.head`: the pollers' client has the same limits); a line
beyond Twisted's 16 KB line limit is refused with its own reason (Twisted only closed the connection, which Scrapy reported as "Connection was closed cleanly"),
and so is a status code that is not three digits (Twisted took any integer: one too large to store
left the exchange unrecorded and the run degraded).
The failure names what was wrong (`ResponseHeadRefused`, read back by `download_failure_reason`),
and the crawl goes on. A header whose *name* is not an HTTP token (a byte like ``\\xe9``), which
Twisted refuses by failing the whole response, is skipped like Scrapy skips a line with no colon:
one odd header must not make a page impossible to capture. Skipped headers are counted in the crawl
stats (``pkscan/response_headers_skipped``); the rest of the exchange is recorded as received.

Scrapy's handler swaps its parser class in after Twisted creates it (`_LenientHTTP11ClientProtocol`);
this one swaps in a subclass of that parser the same way. Those names are private to Scrapy, which
constraints.txt pins; tests/hostile/test_response_head.py fails if they change.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from scrapy.exceptions import DownloadCancelledError, DownloadFailedError
from twisted.web._newclient import HEADER, ResponseFailed
from twisted.web.http_headers import InvalidHeaderName

from scanner.net.head import (
    MAX_RESPONSE_HEAD_BYTES,
    MAX_RESPONSE_HEADER_FIELDS,
    MAX_RESPONSE_HEADER_LINE,
    head_too_large,
    line_too_long,
    too_many_fields,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IAddress
    from twisted.web.iweb import IResponse

log = logging.getLogger(__name__)

SKIPPED_HEADERS_STAT = "pkscan/response_headers_skipped"


class ResponseHeadRefused(Exception):
    """The response's status line and headers were refused; str() says why (no bytes of the head)."""


class _BoundedHeadParser(_LenientHTTPClientParser):
    MAX_LENGTH = MAX_RESPONSE_HEADER_LINE  # Twisted's own (LineReceiver), named in one place
    # Class-level starting values: the parser object is created by Twisted and only then given this
    # class (see the module docstring), so its counters start here.
    _head_bytes = 0
    _head_fields = 0
    stats: StatsCollector | None = None  # set by the protocol after the class swap

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
        self._head_bytes += len(line) + 1
        if self._head_bytes > MAX_RESPONSE_HEAD_BYTES:
            raise ResponseHeadRefused(head_too_large())
        if self.state == HEADER and line.rstrip(b"\r") and line[:1] not in b" \t":
            self._head_fields += 1
            if self._head_fields > MAX_RESPONSE_HEADER_FIELDS:
                raise ResponseHeadRefused(too_many_fields())
        super().lineReceived(line)

    def statusReceived(self, status: bytes) -> None:  # noqa: N802 - Twisted's name
        # Twisted takes any integer: "HTTP/1.1 99999999999999999999" could not be stored (an
        # OverflowError that left the exchange unrecorded and the run degraded), -5 or 200000 were
        # recorded as statuses. HTTP's status code is three digits (http.client says the same).
        code = status.split(b" ", 2)[1:2]
        if code and not (len(code[0]) == 3 and code[0].isdigit()):
            raise ResponseHeadRefused("a response status code that is not three digits")
        super().statusReceived(status)  # type: ignore[no-untyped-call]

    def lineLengthExceeded(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
        raise ResponseHeadRefused(line_too_long())

    def headerReceived(self, name: bytes, value: bytes) -> None:  # noqa: N802 - Twisted's name
        try:
            super().headerReceived(name, value)  # type: ignore[no-untyped-call]
        except InvalidHeaderName:
            log.debug("skipped a response header whose name is not an HTTP token: %r", name[:100])
            if self.stats is not None:
                self.stats.inc_value(SKIPPED_HEADERS_STAT)


class _BoundedHeadProtocol(_LenientHTTP11ClientProtocol):
    def __init__(self, quiescent_callback: object, stats: StatsCollector | None):
        super().__init__(quiescent_callback)  # type: ignore[no-untyped-call]
        self.stats = stats

    def request(self, request: object) -> Deferred[IResponse]:
        deferred = super().request(request)  # type: ignore[arg-type]
        assert self._parser is not None  # created by request(), as Scrapy's protocol relies on too
        self._parser.__class__ = _BoundedHeadParser
        self._parser.stats = self.stats
        return deferred


class _BoundedHeadFactory(_LenientHTTP11ClientFactory):
    def __init__(self, quiescent_callback: object, metadata: object, *, stats: StatsCollector | None):
        super().__init__(quiescent_callback, metadata)  # type: ignore[no-untyped-call]
        self.stats = stats

    def buildProtocol(self, addr: IAddress | None) -> _BoundedHeadProtocol:  # noqa: N802 - Twisted's name
        return _BoundedHeadProtocol(self._quiescentCallback, self.stats)


class BoundedHeadDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        # The pool builds one factory per connection as factory(quiescentCallback, metadata).
        self._pool._factory = partial(_BoundedHeadFactory, stats=crawler.stats)


def refused_head(exc: BaseException) -> bool:
    """Whether a download failed because its response head was refused (retrying gets the same head)."""
    cause = exc.__cause__ if isinstance(exc, DownloadFailedError) else exc
    return isinstance(cause, ResponseFailed) and any(
        isinstance(reason.value, ResponseHeadRefused) for reason in cause.reasons
    )


def download_failure_reason(exc: BaseException) -> str | None:
    """What was wrong with a failed download, in words, when the download handler said so (a refused
    response head, a body over ``max_response_bytes``) or Twisted named the problem; None when there
    is nothing better than the exception's type. Never quotes bytes the site sent."""
    if isinstance(exc, DownloadCancelledError) and "larger than download max size" in str(exc):
        return "response larger than max_response_bytes"
    cause = exc.__cause__ if isinstance(exc, DownloadFailedError) else exc
    if not isinstance(cause, ResponseFailed):
        return None
    for reason in cause.reasons:
        if isinstance(reason.value, ResponseHeadRefused):
            return str(reason.value)
    names = sorted({type(reason.value).__name__ for reason in cause.reasons})
    return f"response failed ({', '.join(names)})" if names else None
