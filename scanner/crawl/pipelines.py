"""Item pipelines: capture -> detection -> signals -> finding per platform. One job each.

- `DetectionPipeline` runs `scanner.detection.analyze` on each fetched page (text types only).
- `StorePipeline` stores the analysis and its signals (`scanner.findings.record_document`) and
  re-judges the touched platforms (`refresh_finding`) every ``PKSCAN_FINDINGS_REFRESH_SECONDS`` and
  at the end, so a killed crawl loses at most that interval of findings (its captures are safe).
- `CandidatePipeline` records platforms discovery found in outbound links.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select
from twisted.internet import task

from scanner.crawl.context import CrawlContext
from scanner.crawl.items import CandidateItem, PageItem
from scanner.detection import Document, analyze, platform_key
from scanner.findings import record_candidate, record_document, refresh_finding
from scanner.store.db import session_scope
from scanner.store.models import PageAnalysis

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
TEXT_TYPES = ("text/", "html", "xml", "json", "javascript")


class DetectionPipeline:
    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DetectionPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        content_type = item.content_type.lower()
        if content_type and not any(t in content_type for t in TEXT_TYPES):
            self.stats.inc_value("pkscan/not_analysed")
            return item
        item.analysis = analyze(
            Document(item.url, item.content_type, item.body),
            self.context.lexicons,
            self.context.config.register,
        )
        self.stats.inc_value(f"pkscan/analysed/{item.analysis.verdict}")
        return item


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.context = CrawlContext.of(crawler)
        self.stats = crawler.stats
        self.interval = crawler.settings.getfloat("PKSCAN_FINDINGS_REFRESH_SECONDS", 10.0)
        self.dirty: set[int] = set()
        self.flagged: set[int] = set()
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.interval > 0:
            self._loop = task.LoopingCall(self.refresh)
            self._loop.start(self.interval, now=False)

    def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.refresh()
        self.context.findings_flagged = len(self.flagged)
        self.stats.set_value("pkscan/findings_flagged", len(self.flagged))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem) or item.analysis is None:
            return item
        engine = self.context.engine
        if item.replayed and item.capture_id is not None:
            with Session(engine) as session:
                stored = session.exec(
                    select(PageAnalysis.id).where(PageAnalysis.capture_id == item.capture_id)
                ).first()
            if stored is not None:
                return item  # stored before the interruption
        with session_scope(engine) as session:
            page = record_document(
                session,
                item.analysis,
                capture=item.capture_id,
                run_id=self.context.run_id,
                document=Document(item.url, item.content_type, item.body),
            )
            self.dirty.add(page.platform_id)
        self.stats.inc_value("pkscan/documents_stored")
        return item

    def refresh(self) -> None:
        started = time.monotonic()
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
        if dirty:
            self.stats.inc_value("pkscan/finding_refreshes", len(dirty))
            self.stats.inc_value("pkscan/finding_refresh_seconds", round(time.monotonic() - started, 3))


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
