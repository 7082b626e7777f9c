"""Base class of our spiders: the one errback, which counts final failures in the crawl stats."""

from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure


class EvidenceSpider(scrapy.Spider):
    def failed(self, failure: Failure) -> None:
        """Errback: a request that finally failed (after retries) is counted per host and reason."""
        request = getattr(failure, "request", None)
        host = (urlsplit(request.url).hostname or "?") if request is not None else "?"
        stats = self.crawler.stats
        if failure.check(HttpError):
            what = f"HTTP {failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            message = str(failure.value)
            if "robots.txt" in message:
                stats.inc_value("pkscan/robots_forbidden")
                return
            if "offsite" in message.lower():
                return
            what = message.split(":")[0][:80] or "IgnoreRequest"
        else:
            kind = failure.type
            what = kind.__name__ if kind else "error"
            if kind is not None and not kind.__module__.startswith(("builtins", "scrapy", "twisted")):
                what = f"{kind.__module__}.{what}"  # zlib.error, not just "error"
        stats.inc_value(f"pkscan/failure/{host}/{what}")
        self.logger.warning(
            "failed %s: %s", request.url if request is not None else "?", failure.getErrorMessage()
        )
