"""Item pipelines: capture -> detection -> signals -> finding per platform. One job each.

- `DetectionPipeline` runs `scanner.detection.analyze` on each fetched page (text types only); with
  ``PKSCAN_DETECTION_WORKERS`` > 0 in a worker process that also stores the result.
- `StorePipeline` stores what was detected in this process (`scanner.observation`): analyses and
  signals in batches; the touched platforms re-judged every ``PKSCAN_FINDINGS_REFRESH_SECONDS``
  (longer when that takes long) and at the end, so a killed crawl loses little (its captures are
  safe, and a resumed crawl stores what was missing).
- `CandidatePipeline` records platforms discovery found in outbound links.

What the run's status is judged on (`scanner.crawl.runrecord`) is counted here: text pages sent to
detection (``pkscan/analysis/expected``), those whose analysis committed (``.../committed``, from the
worker's acknowledgement or our own batch), and why the others were lost (``.../lost/<why>``). A
database that stays unreachable through the bounded retries stops the crawl (``database_unavailable``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from scanner.crawl.context import CrawlContext
from scanner.crawl.detect_worker import DetectionWorker, WorkerGone
from scanner.crawl.items import CandidateItem, PageItem
from scanner.detection import platform_key
from scanner.discovery.leads import is_whatsapp, phone_of, record_sighting
from scanner.findings import mark_candidate_crawled, record_candidate
from scanner.observation import Observation, ObservationWriter
from scanner.store.db import StoreUnavailable, session_scope

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
TEXT_TYPES = ("text/", "html", "xml", "json", "javascript")


def database_lost(crawler: Crawler, exc: StoreUnavailable) -> None:
    """Stop the crawl: pages fetched now could be neither recorded nor judged."""
    context = CrawlContext.of(crawler)
    if context.database_lost is None:
        context.database_lost = str(exc)
        log.error("stopping the crawl: %s", exc, exc_info=exc)
        if crawler.engine is not None and crawler.engine.spider is not None:
            deferred_from_coro(crawler.engine.close_spider_async(reason="database_unavailable"))


class DetectionPipeline:
    """Runs detection (`analyze`, plus the page identity used for mirror grouping) on text pages.

    With ``PKSCAN_DETECTION_WORKERS`` > 0 a worker process (`scanner.crawl.detect_worker`) detects
    *and stores* each document, so downloads, detection and storing overlap; the item comes back
    marked ``stored``. 0 detects inline (and `StorePipeline` stores). A document the worker did not
    acknowledge (it died, or storing failed) is detected inline and stored by `StorePipeline`.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.worker = self.context.detection_worker  # started with the context (scanner.crawl.context)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DetectionPipeline:
        return cls(crawler)

    def _worker(self) -> DetectionWorker:
        assert self.worker is not None
        self.worker.run_id = self.context.run_id  # opened after the worker started (at spider_opened)
        return self.worker

    async def close_spider(self) -> None:
        if self.worker is None:
            return
        try:
            summary = await self.worker.finish()
        except WorkerGone as exc:  # its platforms stay marked stale: re-judged at the end of the run
            log.error("the detection worker did not finish: %s", exc)
            self.stats.inc_value("pkscan/detection_worker_failures")
            return
        except Exception as exc:  # noqa: BLE001 - it stored everything but could not re-judge (database)
            log.error("the detection worker could not re-judge the findings: %s", exc)
            return
        self.context.flagged.update(summary["flagged"])
        self.context.flagged.difference_update(summary["unflagged"])
        self.context.findings_flagged = len(self.context.flagged)
        self.stats.set_value("pkscan/findings_flagged", self.context.findings_flagged)
        self.stats.inc_value("pkscan/documents_stored", summary["stored"])
        self.stats.inc_value("pkscan/finding_refreshes", summary["refreshes"])
        self.stats.set_value("pkscan/detection_worker_cpu_seconds", summary["cpu_seconds"])
        self.stats.set_value("pkscan/detection_worker_peak_rss_mb", summary["peak_rss_mb"])

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        content_type = item.content_type.lower()
        if content_type and not any(t in content_type for t in TEXT_TYPES):
            self.stats.inc_value("pkscan/not_analysed")
            return item
        self.stats.inc_value("pkscan/analysis/expected")
        if self.worker is not None and self.context.database_lost is None:
            try:
                verdict = await self._worker().submit(
                    item.url, item.content_type, item.body, item.capture_id, item.replayed, item.vantage
                )
            except WorkerGone as exc:  # the worker's failure must not lose the page: detected here instead
                if not self.stats.get_value("pkscan/detection_worker_failures"):
                    log.error(
                        "the detection worker died (%s); detecting and storing in the crawl process", exc
                    )
                self.stats.inc_value("pkscan/detection_worker_failures")
            except Exception as exc:  # noqa: BLE001 - it could not store the page: we try ourselves
                log.info("detection worker failed on %s (%s); detecting inline", item.url, exc)
                self.stats.inc_value("pkscan/detection_worker_store_failures")
            else:
                item.stored = True
                self.stats.inc_value("pkscan/analysis/committed")
                self.stats.inc_value(f"pkscan/analysed/{verdict}")
                return item
        try:
            item.observation = self.context.rules.observe(
                item.url, item.content_type, item.body, capture_id=item.capture_id, replayed=item.replayed,
                vantage=item.vantage,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the crawl; the run says so
            log.exception("detection failed on %s", item.url)
            self.stats.inc_value(f"pkscan/analysis/lost/detection failed: {type(exc).__name__}")
            return item
        self.stats.inc_value(f"pkscan/analysed/{item.observation.analysis.verdict}")
        return item


class StorePipeline:
    """Stores what was detected in this process (`ObservationWriter`) and re-judges their platforms.

    Items are written ``PKSCAN_STORE_BATCH`` at a time (or at least every second) in one
    transaction; see `scanner.observation` for what a kill can lose (never evidence).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.interval = crawler.settings.getfloat("PKSCAN_FINDINGS_REFRESH_SECONDS", 10.0)
        self.batch = max(crawler.settings.getint("PKSCAN_STORE_BATCH", 100), 1)
        self.pending: list[Observation] = []
        self._store: ObservationWriter | None = None
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    @property
    def store(self) -> ObservationWriter:
        if self._store is None:
            context = self.context
            self._store = ObservationWriter(
                context.engine, context.rules, context.run_id, interval=self.interval
            )
        return self._store

    def open_spider(self) -> None:
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(1.0, now=False)

    def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._store is None and not self.pending:
            return
        self.flush()
        if self.context.database_lost is None:
            self._refresh()
        self.context.flagged.update(self.store.flagged)
        self.context.flagged.difference_update(self.store.unflagged)
        self.context.findings_flagged = len(self.context.flagged)
        self.stats.set_value("pkscan/findings_flagged", self.context.findings_flagged)

    def tick(self) -> None:
        self.flush()
        if self._store is not None and self.store.refresh_due() and self.context.database_lost is None:
            self._refresh()

    def _refresh(self) -> None:
        try:
            self.store.refresh()
        except StoreUnavailable as exc:  # the platforms stay marked stale: the next run re-judges them
            database_lost(self.crawler, exc)
            return
        self._note_refresh()

    def _note_refresh(self) -> None:
        self.stats.set_value("pkscan/finding_refresh_seconds", round(self.store.refresh_cost, 3))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem) and item.observation is not None and not item.stored:
            self.pending.append(item.observation)
            if len(self.pending) >= self.batch:
                self.flush()
        return item

    def flush(self) -> None:
        documents, self.pending = self.pending, []
        if not documents:
            return
        if self.context.database_lost is not None:
            self.stats.inc_value("pkscan/analysis/lost/database unavailable", len(documents))
            return
        try:
            self.store.store(documents)
        except StoreUnavailable as exc:
            self.stats.inc_value("pkscan/analysis/lost/database unavailable", len(documents))
            database_lost(self.crawler, exc)
            return
        except Exception as exc:  # noqa: BLE001 - the run is degraded, and says why
            log.exception("storing %d analysed documents failed", len(documents))
            self.stats.inc_value(f"pkscan/analysis/lost/storing failed: {type(exc).__name__}", len(documents))
            return
        self.stats.inc_value("pkscan/analysis/committed", len(documents))
        self.stats.inc_value("pkscan/documents_stored", len(documents))


class CandidatePipeline:
    """Configured site targets are known already: only platforms no config names become candidates.

    A candidate is marked ``crawled`` once a page of it has been fetched, so operators can tell the
    platforms discovery has looked at from those it only saw linked.
    """

    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.marked: set[str] = set()
        sites = self.context.config.targets.sites
        self.configured = {platform_key(str(seed)) for site in sites for seed in site.seeds}
        self.configured |= {platform_key(domain) for site in sites for domain in site.allowed_domains}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CandidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, CandidateItem) and is_whatsapp(item.url):
            self.record_phone(item)
        elif isinstance(item, CandidateItem) and platform_key(item.url) not in self.configured:
            with session_scope(self.context.engine) as session:
                created = record_candidate(
                    session, item.url, item.found_on_url, self.context.run_id,
                    source=item.source, capture_id=item.capture_id,
                )  # fmt: skip
                if created:
                    self.stats.inc_value("pkscan/candidates")
        elif isinstance(item, PageItem) and self.context.spider_name == "discovery":
            key = platform_key(item.url)
            if key not in self.configured and key not in self.marked:
                self.marked.add(key)
                with session_scope(self.context.engine) as session:
                    mark_candidate_crawled(session, key)
        return item

    def record_phone(self, item: CandidateItem) -> None:
        """A WhatsApp link is a contact of the page's platform, not a platform to crawl."""
        phone = phone_of(item.url)
        if phone is None:
            return
        with session_scope(self.context.engine) as session:
            new = record_sighting(
                session, kind="phone", value=phone, platform=platform_key(item.found_on_url), url=item.found_on_url,
                source=item.source if item.source != "link" else "crawl-links", capture_id=item.capture_id,
            )  # fmt: skip
        if new:
            self.stats.inc_value("pkscan/leads/phone")
