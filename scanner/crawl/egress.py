"""The egress policy (`scanner.net.egress`) in Scrapy: a downloader middleware and a DNS resolver.

- `EgressMiddleware` (first downloader middleware, before robots.txt and capture) refuses a request
  whose URL the policy refuses: non-http(s) schemes, ``localhost``, internal IP literals in any
  spelling, an internal proxy not allowed by ``egress.proxy_networks``. Redirects come back through
  the downloader middlewares as new requests, so every hop is checked. A refused request never
  reaches the network nor the evidence; the page that linked or redirected to it stays captured.
- `EgressResolver` (``TWISTED_DNS_RESOLVER``) resolves names for the connections Scrapy makes and
  checks every address returned; Twisted connects to the checked address, so a name that resolves
  to 127.0.0.1 (or to a public address and 127.0.0.1) is refused at connect time. Behind an HTTP
  proxy (the environment's, or a vantage point's: `scanner.crawl.vantage`) the proxy resolves target
  names; only the proxy's own name comes here.

Each refusal is counted in the crawl stats as ``pkscan/egress_refused/<reason>`` and in the run's
error summary as ``<host>: Nx egress refused: <reason>`` (`scanner.crawl.runrecord`), and logged
with the URL and the whole reason.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.resolver import CachingThreadedResolver, dnscache
from twisted.internet import defer, threads
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from scanner.config import Config
from scanner.net.egress import (
    ALLOWED_SCHEMES,
    EgressPolicy,
    EgressRefused,
    EgressUnresolvable,
    environment_proxy,
    proxy_hosts,
)
from scanner.printable import visible

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.base import ReactorBase

log = logging.getLogger(__name__)

STATS_PREFIX = "pkscan/egress_refused/"
# Names EgressResolver refused in this process, with why (bounded: one entry per refused name).
REFUSED_NAMES: dict[str, EgressRefused] = {}


class EgressIgnoreRequest(IgnoreRequest):
    """A request the egress policy refused (already counted; the spider's errback skips it)."""


def failure_host(url: str) -> str:
    """The host a failure is counted under in the run summary, printable: a link's host may hold
    control characters (``a\\x1bMb.test``: ESC M moves a terminal's cursor up a line)."""
    parts = urlsplit(url)
    return visible(parts.hostname or f"{parts.scheme or '?'}:")


def record_refusal(stats: StatsCollector | None, url: str, refused: EgressRefused) -> None:
    host = failure_host(url)
    if stats is not None:
        stats.inc_value(f"{STATS_PREFIX}{refused.reason}")
        stats.inc_value(f"pkscan/failure/{host}/egress refused: {refused.reason}")
    log.warning("%s", refused, extra={"url": url, "reason": refused.reason})


# Answers kept per crawl (hosts' environment proxies, proxies found allowed); beyond, asked each time.
MAX_REMEMBERED = 10_000


class EgressMiddleware:
    def __init__(self, crawler: Crawler, policy: EgressPolicy):
        self.crawler = crawler
        self.policy = policy
        self.proxies = urllib.request.getproxies_environment()  # as Scrapy's HttpProxyMiddleware: once
        # Per request these were most of the check (NO_PROXY parsed, the proxy URL parsed and its
        # address checked, for the same few answers): each is decided once. A refused proxy is not
        # remembered, so that each of its requests is refused and counted as before.
        self.host_proxies: dict[tuple[str, str], str | None] = {}
        self.allowed_proxies: set[str] = set()

    def environment_proxy(self, url: str) -> str | None:
        """`environment_proxy` for ``url``, decided once per scheme and host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key in self.host_proxies:
            return self.host_proxies[key]
        proxy = environment_proxy(url, self.proxies)
        if len(self.host_proxies) < MAX_REMEMBERED:
            self.host_proxies[key] = proxy
        return proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EgressMiddleware:
        from scanner.crawl.context import CrawlContext

        return cls(crawler, EgressPolicy.from_settings(CrawlContext.of(crawler).config.settings.egress))

    def process_request(self, request: Request) -> None:
        try:
            self.policy.check_url(request.url)
            proxy = request.meta.get("proxy") or self.environment_proxy(request.url)
            if proxy and proxy not in self.allowed_proxies:
                try:
                    self.policy.check_proxy(str(proxy))
                    if len(self.allowed_proxies) < MAX_REMEMBERED:
                        self.allowed_proxies.add(proxy)
                except EgressRefused as refused:
                    if not (vantage := request.meta.get("vantage")):
                        raise
                    # A vantage point's proxy (scanner.crawl.vantage): say which one.
                    detail = f"vantage point {vantage!r}: {refused.detail}"
                    raise EgressRefused(refused.url, refused.reason, detail) from None
        except EgressRefused as refused:
            record_refusal(self.crawler.stats, request.url, refused)
            raise EgressIgnoreRequest(str(refused)) from None

    def process_response(self, request: Request, response: Response) -> Response:
        """A redirect Scrapy does not follow (file:, ftp: ... Location) is a refusal too; http(s)
        redirects come back as requests to `process_request`."""
        location = response.headers.get(b"Location") if 300 <= response.status < 400 else None
        if location:
            url = urljoin(request.url, location.decode("latin-1"))
            if urlsplit(url).scheme.lower() not in ALLOWED_SCHEMES:
                try:
                    self.policy.check_url(url)
                except EgressRefused as refused:
                    record_refusal(self.crawler.stats, url, refused)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Twisted reports any resolver failure as a DNS lookup failure: the resolver kept the reason.
        refused = exception if isinstance(exception, EgressRefused) else None
        if refused is None and isinstance(exception, CannotResolveHostError | DNSLookupError):
            refused = REFUSED_NAMES.get((urlsplit(request.url).hostname or "").lower())
        if refused is not None:
            record_refusal(self.crawler.stats, request.url, refused)
            raise EgressIgnoreRequest(f"egress refused: {request.url}: {refused.detail}")


@implementer(IResolverSimple)
class EgressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, answering only with addresses the egress policy allows."""

    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float, policy: EgressPolicy):
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: ReactorBase) -> EgressResolver:
        # Built with the CrawlerProcess (not a Crawler): its crawls all run on the environment's config.
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        config = Config()
        policy = EgressPolicy.from_settings(config.settings.egress)
        resolver = cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), policy)
        resolver.vantage_proxies = config.vantage_proxies()
        return resolver

    vantage_proxies: list[str] = []  # noqa: RUF012 - proxy URLs of the vantage points, resolved as proxies

    def _resolve(self, name: str) -> str:
        try:
            addresses = self.policy.resolve(name, proxy=name.lower() in proxy_hosts(self.vantage_proxies))
        except EgressUnresolvable as exc:
            raise DNSLookupError(exc.detail) from None  # an ordinary DNS failure: retried as usual
        except EgressRefused as exc:
            if len(REFUSED_NAMES) < 10_000:
                REFUSED_NAMES[name.lower()] = exc
            raise DNSLookupError(str(exc)) from None
        # TCP4ClientEndpoint connects over IPv4: prefer an IPv4 address (all of them were checked).
        return next((a for a in addresses if ":" not in a), addresses[0])

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        if name in dnscache:
            return defer.succeed(dnscache[name])
        d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), self._resolve, name)
        if dnscache.limit:
            d.addCallback(self._cache_result, name)
        return d
