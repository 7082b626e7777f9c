"""Extension: how often the crawl's downloader was full, and what held its requests.

Scrapy counts a request against ``CONCURRENT_REQUESTS`` from the first downloader middleware's
``process_request`` to the last ``process_response``, so a response waiting in a middleware (for its
capture to be durable and chained: `scanner.crawl.capture`) holds a place no transfer can use, while
the per-domain limit counts transfers only. Sampled ten times a second while the spider is open, the
run's stats keep the share of samples in which the downloader was full
(``pkscan/downloader_full_share``) and the mean number of its requests neither transferring nor
queued for a transfer slot (``pkscan/downloader_waiting_mean``: in middlewares, mostly responses
waiting for their capture). A crawl whose downloader is full of such requests is held by its capture
path, not by the sites. ``bench/crawl.py`` prints both for the bare and the full crawl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

FULL_SHARE = "pkscan/downloader_full_share"
WAITING_MEAN = "pkscan/downloader_waiting_mean"
SAMPLE_SECONDS = 0.1


class DownloaderSaturation:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.limit = crawler.settings.getint("CONCURRENT_REQUESTS")
        self.samples = self.full = self.waiting = 0
        self.loop = task.LoopingCall(self.sample)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloaderSaturation:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.loop.start(SAMPLE_SECONDS, now=False)

    def sample(self) -> None:
        engine = self.crawler.engine
        if engine is None:
            return
        downloader = engine.downloader
        active = len(downloader.active)
        transferring = queued = 0
        for slot in downloader.slots.values():
            transferring += len(slot.transferring)
            queued += len(slot.queue)
        self.samples += 1
        self.full += 0 < self.limit <= active
        self.waiting += max(active - transferring - queued, 0)
        # Kept current: the run record reads the stats when the spider closes.
        stats = self.crawler.stats
        stats.set_value(FULL_SHARE, round(self.full / self.samples, 3))
        stats.set_value(WAITING_MEAN, round(self.waiting / self.samples, 1))

    def spider_closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
