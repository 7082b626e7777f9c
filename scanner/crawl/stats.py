"""The crawl's stats collector (``STATS_CLASS``): Scrapy's `MemoryStatsCollector`, minus a hook on
every attribute read.

Scrapy 2.19's `StatsCollector.__getattribute__` runs for every attribute of the collector, its own
``_stats`` included: it first looks for a ``_cached_<name>`` attribute (an `AttributeError` raised
and caught for every name that has none), then wraps the public methods once in a check that warns
when a caller passes the deprecated ``spider`` argument. A crawl process counts ~35 stats a page
(Scrapy's downloader and scheduler stats, ours), each paying that hook twice and the check once:
~1.5-2.5% of the reactor thread's time (py-spy of `bench/crawl.py`, the reactor being the crawl's
bottleneck). Here attributes are read as on any object; the methods, their arguments and what they
store are Scrapy's. Nothing of ours passes ``spider``; a caller that does is not warned.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
