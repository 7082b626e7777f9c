"""State one crawl's pkscan components share: config, store, job, run, evidence recorder, detection worker.

Built once per Scrapy `Crawler` by whichever component asks first (`CrawlContext.of(crawler)`), so
`scrapy crawl` and `scanner crawl` set it up the same way: from the environment
(``SCANNER_CONFIG_DIR``, ``SCANNER_DATA_DIR``, ``SCANNER_DATABASE_URL``).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Any

from scanner.config import Config
from scanner.crawl import jobs
from scanner.crawl.capture_writer import CaptureWriter
from scanner.crawl.detect_worker import DetectionWorker, WorkerPool
from scanner.evidence import EvidenceRecorder
from scanner.observation import Rules, rules_for
from scanner.store.db import open_store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings as Settings
    from sqlalchemy.engine import Engine

_ATTR = "_pkscan_context"
_CONFIG_ATTR = "_pkscan_config"
_WORKER_ATTR = "_pkscan_started_worker"
MAX_ERROR_LINES = 200


def crawl_config(crawler: Any) -> Config:
    """The crawl's configuration (from the environment), one per crawler: spiders, pipelines and
    middlewares all read the same object."""
    config = getattr(crawler, _CONFIG_ATTR, None)
    if config is None:
        config = Config()
        setattr(crawler, _CONFIG_ATTR, config)
    return config


def offer_worker(crawler: Crawler, started: WorkerPool) -> None:
    """Hand the crawl a detection worker started before the crawler was built (`scanner crawl`): it
    is used if the crawl wants one for the same configuration, and shut down otherwise."""
    setattr(crawler, _WORKER_ATTR, started)


def start_detection_worker(
    settings: Settings, config: Config, started: WorkerPool | None = None
) -> DetectionWorker | None:
    """The crawl's detection worker (`scanner.crawl.detect_worker`), unless ``PKSCAN_DETECTION_WORKERS``
    is 0; `DetectionPipeline` sends it the pages and finishes it. ``started``: a worker already
    loading (for another configuration or not wanted, it is shut down)."""
    if settings.getint("PKSCAN_DETECTION_WORKERS", 0) <= 0:
        if started is not None:
            started.shutdown()
        return None
    return DetectionWorker(
        str(config.dir.resolve()),
        started=started,
        batch=max(settings.getint("PKSCAN_STORE_BATCH", 100), 1),
        # Pages wait in the scraper until stored: a batch of big pages must not wait to fill up.
        batch_bytes=max(settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") // 4, 1),
        interval=settings.getfloat("PKSCAN_FINDINGS_REFRESH_SECONDS", 10.0),
        flush_seconds=1.0,
        # The crawl's last pages wait 0.2 s, not flush_seconds, for a batch that will not fill. Not
        # less: on a loaded host pages often come more than 50 ms apart, and 50 ms made ~40% more,
        # smaller batches (each a round trip and a transaction in the worker) in a 2,000-page crawl.
        quiet_seconds=0.2,
    )


class CrawlContext:
    def __init__(self, crawler: Crawler, config: Config | None = None):
        self.crawler = crawler
        self.config = config or crawl_config(crawler)
        # First thing: the worker loads its rules (1-3 s) while this process opens the store, builds
        # the engine and fetches robots.txt; pages fetched before it is ready wait in the scraper.
        self.detection_worker = start_detection_worker(
            crawler.settings, self.config, getattr(crawler, _WORKER_ATTR, None)
        )
        try:
            self.engine: Engine = open_store(self.config)
        except BaseException:
            if self.detection_worker is not None:
                self.detection_worker.pool.shutdown(wait=False, cancel_futures=True)
            raise
        spider = crawler.spider
        self.spider_name: str = getattr(spider, "name", None) or crawler.spidercls.name
        self.target: str | None = getattr(spider, "target", None) or None
        self.job: jobs.JobPlan | None = None
        self.run_id: int | None = None
        self.trigger = os.environ.get("SCANNER_RUN_TRIGGER", "cli")
        self._recorder: EvidenceRecorder | None = None
        self._capture_writer: CaptureWriter | None = None
        self.capture_cpu_seconds = 0.0  # of the capture writer's thread, once closed
        # Failures by host, for the run's error summary: "badhost.test: TimeoutError".
        self.failures: Counter[tuple[str, str]] = Counter()
        self.flagged: set[int] = set()  # finding ids this run judged "flag"
        self.findings_flagged = 0
        # Set when the database stayed unreachable through the bounded retries: the crawl stops, failed.
        self.database_lost: str | None = None
        # The run's final status and what it misses, as spider_closed judged them (scanner.crawl.runrecord).
        self.status: str | None = None
        self.problems: list[str] = []

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlContext:
        context = getattr(crawler, _ATTR, None)
        if context is None:
            context = cls(crawler)
            setattr(crawler, _ATTR, context)
        return context

    def prepare_job(self) -> jobs.JobPlan:
        if self.job is None:
            self.job = jobs.prepare(self.engine, self.config.data_dir, self.spider_name, self.target)
        return self.job

    @property
    def recorder(self) -> EvidenceRecorder:
        if self._recorder is None:
            self._recorder = EvidenceRecorder(
                self.engine, self.config.data_dir, self.config.settings.warc_max_bytes, run_id=self.run_id
            )
        return self._recorder

    @property
    def capture_writer(self) -> CaptureWriter:
        if self._capture_writer is None:
            self._capture_writer = CaptureWriter(self.recorder)
        return self._capture_writer

    def close_recorder(self) -> None:
        if self._capture_writer is not None:
            self._capture_writer.close()  # closes the recorder too
            self.capture_cpu_seconds = self._capture_writer.cpu_seconds
            self._capture_writer = None
            self._recorder = None
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None

    @property
    def rules(self) -> Rules:
        return rules_for(self.config)

    def note_failure(self, host: str, what: str) -> None:
        self.failures[(host, what)] += 1

    def error_summary(self) -> str:
        lines = [
            f"{host}: {count}x {what}" for (host, what), count in self.failures.most_common(MAX_ERROR_LINES)
        ]
        return "\n".join(lines)

    def stats(self) -> dict[str, Any]:
        return self.crawler.stats.get_stats() if self.crawler.stats else {}
