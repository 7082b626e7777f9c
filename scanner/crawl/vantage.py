"""Vantage points in Scrapy (`scanner.net.vantage`): a request's ``meta["vantage"]`` names the vantage
point it is fetched from (None or absent: direct), set by the spiders from their target's ``vantage:``.

- `VantageMiddleware` (downloader middleware 40, before `scanner.crawl.egress.EgressMiddleware` at 50)
  turns the name into ``meta["proxy"]``, on every pass (redirect hops and retries included), so the
  egress middleware checks that proxy's address like any other and Scrapy's HttpProxyMiddleware
  sends its credentials (``Proxy-Authorization``, which evidence never records). A vantage point
  whose ``proxy_env`` variable is unset here fails its requests (counted per host in the run's
  error summary), not the crawl. A request no spider made (Scrapy's robots.txt request for a host)
  goes through the vantage point of the first request to that host.
- `VantageFingerprinter`: the same URL from two vantage points is two requests (a site crawled from
  ``direct`` and from ``pk`` fetches each page twice); requests without a vantage keep Scrapy's
  fingerprint.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.request import RequestFingerprinter

from scanner.config import DIRECT_VANTAGE, ConfigError
from scanner.net.vantage import Vantage

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from scanner.config import Config

VANTAGE = "vantage"  # request.meta: the vantage point's name (None: direct)
VANTAGE_COUNTRY = "vantage_country"  # set by VantageMiddleware, recorded with the capture


class VantageMiddleware:
    def __init__(self, config: Config):
        self.config = config
        self.resolved: dict[str, Vantage] = {}
        self.first_by_host: dict[str, str | None] = {}  # host -> vantage of its first request

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VantageMiddleware:
        from scanner.crawl.context import CrawlContext

        return cls(CrawlContext.of(crawler).config)

    def vantage(self, name: str) -> Vantage:
        if name not in self.resolved:
            self.resolved[name] = self.config.vantage(name)
        return self.resolved[name]

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).netloc
        if VANTAGE not in request.meta:
            # Not a spider's request: robots.txt, which Scrapy fetches for the first request to a host.
            # It goes through that request's vantage point (a site may refuse other countries).
            request.meta[VANTAGE] = self.first_by_host.get(host)
        else:
            self.first_by_host.setdefault(host, request.meta[VANTAGE])
        name = request.meta.get(VANTAGE)
        if not name:
            return
        try:
            vantage = self.vantage(name)
        except ConfigError as exc:
            # The names were checked when targets.yaml loaded; what fails here is a proxy_env variable
            # unset in this environment. Those requests fail (in the run's error summary), not the
            # whole crawl: the other targets and vantage points go on.
            detail = str(exc).rsplit(": ", 1)[-1].split(" (")[0]
            raise IgnoreRequest(f"vantage point {name!r} unavailable ({detail})") from None
        request.meta["proxy"] = vantage.proxy
        request.meta[VANTAGE_COUNTRY] = vantage.country


def with_vantage(fingerprint: bytes, request: Request) -> bytes:
    """A request fingerprint that tells vantage points apart (unchanged for a direct request)."""
    name = request.meta.get(VANTAGE)
    if not name:
        return fingerprint
    return hashlib.sha1(fingerprint + b"\0vantage:" + str(name).encode()).digest()  # noqa: S324 - as Scrapy's


class VantageFingerprinter(RequestFingerprinter):
    def fingerprint(self, request: Request) -> bytes:
        return with_vantage(super().fingerprint(request), request)


def spider_vantages(config: Config, names: list[str | None]) -> list[str | None]:
    """The ``meta["vantage"]`` values for a target's vantage names (None: ``default_vantage``): the
    vantage point's name, None for direct."""
    resolved = [name or config.targets.default_vantage for name in names]
    return list(dict.fromkeys(None if name == DIRECT_VANTAGE else name for name in resolved))
