"""Base class of our spiders: the one errback, which counts final failures in the crawl stats, the
link filter (http and https links only; the egress middleware refuses anything else anyway), and
the rendered page of a response rendered in Chromium (`with_rendered`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from scanner.config import Config
from scanner.crawl.context import crawl_config
from scanner.crawl.download import download_failure_reason
from scanner.crawl.egress import failure_host, record_refusal
from scanner.crawl.links import link_urls
from scanner.crawl.rendering import rendered_response
from scanner.markup import cut_short, flatten_deep
from scanner.net.egress import ALLOWED_SCHEMES, EgressRefused


def host_in_domains(netloc: str, domains: tuple[str, ...]) -> bool:
    """`scrapy.utils.url.url_is_from_any_domain` for a URL's lower-cased netloc and lower-case domains."""
    return bool(netloc) and any(netloc == d or netloc.endswith(f".{d}") for d in domains)


def forget_tree(response: Response) -> None:
    """Drop the parsed tree Scrapy cached on a response whose links were read.

    Scrapy's ``response.selector`` is cached on the response and refers back to it: a reference
    cycle, so each page (its body, headers, request and lxml tree) was freed only by the cyclic
    garbage collector, after it had been promoted through the generations with everything else the
    reactor holds. Collections took ~0.3 ms of the crawl process's CPU a page (gc callbacks,
    ``bench/crawl.py --pages 2000``: 907 young, 82 middle and 7 full collections), and pages waited
    for a full collection to give their memory back. Without the cached selector, the page is freed
    as soon as Scrapy lets go of it; ``response.selector`` parses again if anything asks later."""
    if isinstance(response, TextResponse):
        try:
            response._cached_selector = None  # noqa: SLF001 - Scrapy's cache, no public way to clear it
        except AttributeError:  # a Scrapy without that cache: nothing to drop
            pass


class EvidenceSpider(scrapy.Spider):
    def __init__(self, *args: Any, config: Config | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.config = config or Config()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> EvidenceSpider:
        # The spider reads the crawl's own config object (`crawl_config`), not a second copy.
        kwargs.setdefault("config", crawl_config(crawler))
        spider: EvidenceSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    def with_rendered(self, response: Response) -> Iterator[Response]:
        """The response, then (if `scanner.crawl.rendering` rendered it in Chromium) its rendered page:
        a document of its own for detection, whose links are followed too. Once both were parsed
        (the caller asks for the next), their parsed trees are let go (`forget_tree`)."""
        yield response
        rendered = rendered_response(response)
        if rendered is not None:
            yield rendered
            forget_tree(rendered)
        forget_tree(response)

    def web_links(self, response: TextResponse) -> list[str]:
        """The URLs of the page's http(s) links (`scanner.crawl.links`). Scrapy's LinkExtractor also
        keeps file: and ftp: links: those are counted as egress refusals (reason ``scheme``) and dropped."""
        extracted = link_urls(response)
        if cut_short(response.selector.root):
            # libxml2 stopped at its nesting limit: the links after it are read from the page nested
            # no deeper than a browser nests it (scanner.markup).
            extracted = link_urls(response.replace(body=flatten_deep(response.body)))
        links = []
        for url in extracted:
            scheme = url.partition(":")[0].lower()  # the extractor's URLs are absolute
            if scheme not in ALLOWED_SCHEMES:
                scheme = urlsplit(url).scheme  # what urlsplit reads, for anything unusual
            if scheme in ALLOWED_SCHEMES:
                links.append(url)
            else:
                refused = EgressRefused(
                    url, "scheme", f"scheme {scheme!r} is not fetched (http and https only)"
                )
                record_refusal(self.crawler.stats, url, refused)
        return links

    def failed(self, failure: Failure) -> None:
        """Errback: a request that finally failed (after retries) is counted per host and reason."""
        request = getattr(failure, "request", None)
        host = failure_host(request.url) if request is not None else "?"
        stats = self.crawler.stats
        if failure.check(EgressRefused):
            return  # counted with its reason by scanner.crawl.egress
        if failure.check(HttpError):
            what = f"HTTP {failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            message = str(failure.value)
            if message.startswith("egress refused"):
                return  # counted with its reason by scanner.crawl.egress
            if "robots.txt" in message:
                stats.inc_value("pkscan/robots_forbidden")
                return
            if "offsite" in message.lower():
                return
            what = message.split(":")[0][:80] or "IgnoreRequest"
        elif reason := download_failure_reason(failure.value):
            what = reason  # e.g. "response headers larger than 262144 bytes", not "DownloadFailedError"
        else:
            kind = failure.type
            what = kind.__name__ if kind else "error"
            if kind is not None and not kind.__module__.startswith(("builtins", "scrapy", "twisted")):
                what = f"{kind.__module__}.{what}"  # zlib.error, not just "error"
        stats.inc_value(f"pkscan/failure/{host}/{what}")
        self.logger.warning(
            "failed %s: %s", request.url if request is not None else "?", failure.getErrorMessage()
        )
