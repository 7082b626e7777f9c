"""Retries with exponential backoff (Scrapy's RetryMiddleware retries at once).

A retried request waits ``PKSCAN_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds before it goes back to the
scheduler (n = retry number), or the server's ``Retry-After`` (seconds or an HTTP date, read by
`scanner.net.retry_after` as the pollers read it) if longer, never more than
``PKSCAN_RETRY_BACKOFF_MAX``. The wait is asynchronous: other requests keep flowing meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from scanner.crawl.download import refused_head
from scanner.net.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class BackoffRetryMiddleware(RetryMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.backoff_base = crawler.settings.getfloat("PKSCAN_RETRY_BACKOFF_BASE", 0.5)
        middleware.backoff_max = crawler.settings.getfloat("PKSCAN_RETRY_BACKOFF_MAX", 10.0)
        return middleware

    def delay(self, retry: Request, response: Response | None = None) -> float:
        attempt = max(int(retry.meta.get("retry_times", 1)), 1)
        seconds = self.backoff_base * 2 ** (attempt - 1)
        if response is not None:
            seconds = max(seconds, retry_after_seconds(response.headers.get(b"Retry-After")) or 0.0)
        return min(seconds, self.backoff_max)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(self.delay(result, response))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if refused_head(exception):
            return None  # the site would send the same head again
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(self.delay(result))
        return result
