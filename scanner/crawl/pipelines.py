"""Item pipelines: capture -> detection -> signals -> finding per platform. One job each.

- `DetectionPipeline` runs `scanner.detection.analyze` on each fetched page (text types only), in
  worker processes when ``PKSCAN_DETECTION_WORKERS`` > 0.
- `StorePipeline` stores the analysis and its signals (`scanner.findings.record_document`) in
  batches and re-judges the touched platforms (`refresh_finding`) every
  ``PKSCAN_FINDINGS_REFRESH_SECONDS`` (longer when that takes long) and at the end, so a killed crawl loses little (its captures
  are safe, and a resumed crawl stores what was missing).
- `CandidatePipeline` records platforms discovery found in outbound links.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import maybe_deferred_to_future
from sqlmodel import select
from twisted.internet import task

from scanner.crawl.context import CrawlContext
from scanner.crawl.detect_worker import DetectionWorkers
from scanner.crawl.items import CandidateItem, PageItem
from scanner.detection import Document, analyze, platform_key
from scanner.findings import record_candidate, record_document, refresh_finding
from scanner.findings.identity import page_identity
from scanner.store.db import session_scope
from scanner.store.models import PageAnalysis

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
TEXT_TYPES = ("text/", "html", "xml", "json", "javascript")


def detect(url: str, content_type: str, body: bytes, lexicons: Any, register: Any) -> tuple[Any, Any]:
    """(Analysis, PageIdentity or None) of one document."""
    document = Document(url, content_type, body)
    return analyze(document, lexicons, register), page_identity(document)


class DetectionPipeline:
    """Runs detection (`analyze`, plus the page identity used for mirror grouping) on text pages.

    With ``PKSCAN_DETECTION_WORKERS`` > 0 it runs in that many worker processes
    (`scanner.crawl.detect_worker`) so that downloads and detection overlap; 0 runs it inline. A
    document whose worker died is detected inline.
    """

    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.worker_count = crawler.settings.getint("PKSCAN_DETECTION_WORKERS", 0)
        self.workers: DetectionWorkers | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DetectionPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.worker_count > 0:
            self.workers = DetectionWorkers(self.worker_count, str(self.context.config.dir.resolve()))

    def close_spider(self) -> None:
        if self.workers is not None:
            self.workers.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        content_type = item.content_type.lower()
        if content_type and not any(t in content_type for t in TEXT_TYPES):
            self.stats.inc_value("pkscan/not_analysed")
            return item
        result = None
        if self.workers is not None:
            try:
                result = await maybe_deferred_to_future(
                    self.workers.submit(item.url, item.content_type, item.body)
                )
            except Exception as exc:  # noqa: BLE001 - the worker's failure must not lose the page
                log.warning("detection worker failed on %s (%s); detecting inline", item.url, exc)
                self.stats.inc_value("pkscan/detection_worker_failures")
        if result is None:
            result = detect(
                item.url, item.content_type, item.body, self.context.lexicons, self.context.config.register
            )
        item.analysis, item.identity = result
        self.stats.inc_value(f"pkscan/analysed/{item.analysis.verdict}")
        return item


class StorePipeline:
    """Stores analyses and signals in batches; re-judges the touched platforms periodically.

    Items are written ``PKSCAN_STORE_BATCH`` at a time (or at least every second) in one
    transaction. A kill loses at most that batch of stored analyses, never evidence: the captures
    are already committed, and a resumed crawl replays them and stores what was missing.
    """

    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.interval = crawler.settings.getfloat("PKSCAN_FINDINGS_REFRESH_SECONDS", 10.0)
        self.batch = max(crawler.settings.getint("PKSCAN_STORE_BATCH", 100), 1)
        self.pending: list[PageItem] = []
        self.dirty: set[int] = set()
        self.flagged: set[int] = set()
        self.last_refresh = time.monotonic()
        self.refresh_cost = 0.0
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(1.0, now=False)

    def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.flush()
        self.refresh()
        self.context.findings_flagged = len(self.flagged)
        self.stats.set_value("pkscan/findings_flagged", len(self.flagged))

    def tick(self) -> None:
        self.flush()
        # Re-judging a big platform reads all its documents: keep that under ~10% of the crawl's time.
        wait = max(self.interval, 10 * self.refresh_cost)
        if self.interval > 0 and time.monotonic() - self.last_refresh >= wait:
            self.refresh()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem) and item.analysis is not None:
            self.pending.append(item)
            if len(self.pending) >= self.batch:
                self.flush()
        return item

    def flush(self) -> None:
        items, self.pending = self.pending, []
        if not items:
            return
        try:
            with session_scope(self.context.engine) as session:
                for item in items:
                    if item.replayed and item.capture_id is not None:
                        stored = session.exec(
                            select(PageAnalysis.id).where(PageAnalysis.capture_id == item.capture_id)
                        ).first()
                        if stored is not None:
                            continue  # stored before the interruption
                    page = record_document(
                        session, item.analysis, capture=item.capture_id, run_id=self.context.run_id,
                        identity=item.identity,
                    )  # fmt: skip
                    self.dirty.add(page.platform_id)
        except Exception:
            log.exception("storing %d analysed documents failed", len(items))
            self.stats.inc_value("pkscan/store_failures", len(items))
            return
        self.stats.inc_value("pkscan/documents_stored", len(items))

    def refresh(self) -> None:
        self.last_refresh = started = time.monotonic()
        dirty, self.dirty = self.dirty, set()
        for platform_id in sorted(dirty):
            try:
                with session_scope(self.context.engine) as session:
                    finding = refresh_finding(
                        session,
                        platform_id,
                        self.context.lexicons,
                        self.context.config.register,
                        self.context.run_id,
                    )
                    if finding is not None and finding.id is not None:
                        (self.flagged.add if finding.verdict == "flag" else self.flagged.discard)(finding.id)
            except Exception:
                # One platform's failure must not lose the others; it is retried at the next refresh.
                log.exception("refreshing the finding of platform %s failed", platform_id)
                self.dirty.add(platform_id)
        self.refresh_cost = time.monotonic() - started
        if dirty:
            self.stats.inc_value("pkscan/finding_refreshes", len(dirty))
            self.stats.inc_value("pkscan/finding_refresh_seconds", round(self.refresh_cost, 3))


class CandidatePipeline:
    """Configured site targets are known already: only platforms no config names become candidates."""

    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        sites = self.context.config.targets.sites
        self.configured = {platform_key(str(seed)) for site in sites for seed in site.seeds}
        self.configured |= {platform_key(domain) for site in sites for domain in site.allowed_domains}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CandidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, CandidateItem) and platform_key(item.url) not in self.configured:
            with session_scope(self.context.engine) as session:
                if record_candidate(session, item.url, item.found_on_url, self.context.run_id):
                    self.stats.inc_value("pkscan/candidates")
        return item
