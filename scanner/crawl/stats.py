"""The crawl's stats collector (``STATS_CLASS``) and item count, for less work a page on the reactor.

Scrapy 2.19's `StatsCollector.__getattribute__` runs for every attribute of the collector, its own
``_stats`` included: it first looks for a ``_cached_<name>`` attribute (an `AttributeError` raised
and caught for every name that has none), then wraps the public methods once in a check that warns
when a caller passes the deprecated ``spider`` argument. A crawl process counts ~35 stats a page
(Scrapy's downloader and scheduler stats, ours), each paying that hook twice and the check once:
~1.5-2.5% of the reactor thread's time (py-spy of `bench/crawl.py`, the reactor being the crawl's
bottleneck). Here attributes are read as on any object; the methods, their arguments and what they
store are Scrapy's. Nothing of ours passes ``spider``; a caller that does is not warned.

``item_scraped_count`` was Scrapy's `CoreStats` answering the ``item_scraped`` signal, its only
receiver in a crawl: for each item (one a page) Scrapy made a coroutine, an asyncio task and a
gather to call it (~2% of the reactor thread's time, py-spy with ``--gil``). `CountingItemProcessor`
counts the item where the signal is sent, once the item pipelines returned it (an item they drop or
fail on is not counted, as before), and `CrawlCoreStats` is `CoreStats` without that receiver; the
signal is still sent, to whatever else connects to it (a feed export).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.extensions.corestats import CoreStats
from scrapy.pipelines import ItemPipelineManager
from scrapy.statscollectors import MemoryStatsCollector

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

ITEM_COUNT = "item_scraped_count"


class CrawlStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__


class CrawlCoreStats(CoreStats):
    """Scrapy's `CoreStats` (start and finish times, responses, dropped items) but for the item count."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlCoreStats:
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension


class CountingItemProcessor(ItemPipelineManager):
    """Scrapy's item pipelines (``ITEM_PROCESSOR``), counting each item they return."""

    async def process_item_async(self, item: Any) -> Any:
        item = await super().process_item_async(item)
        assert self.crawler is not None and self.crawler.stats is not None  # built from the crawler
        self.crawler.stats.inc_value(ITEM_COUNT)
        return item
