"""Extension: each crawl is a `Run` row (scanner.runs), opened at spider_opened, closed at spider_closed.

Closed as ``interrupted`` after a shutdown (Ctrl-C, SIGTERM: the job resumes next time), ``failed``
when nothing could be fetched at all or the engine closed for another reason, else ``ok``. Pages are
the responses captured or replayed; errors are the requests that finally failed (after retries),
summarised per host in ``error_summary`` (from the ``pkscan/failure/<host>/<what>`` stats the
spiders' errback keeps); the run's ``stats`` keep Scrapy's stats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals

from scanner import runs
from scanner.crawl import jobs
from scanner.crawl.capture import EVIDENCE_WRITE_ERRORS
from scanner.crawl.context import CrawlContext

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

FAILURE_PREFIX = "pkscan/failure/"
OK_REASONS = ("finished", "closespider_pagecount", "closespider_itemcount", "closespider_timeout")


class RunRecordExtension:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecordExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        job = self.context.prepare_job()
        self.context.run_id = runs.start_run(
            self.context.engine,
            "crawl",
            job.run_name,
            trigger=self.context.trigger,
            job_dir=str(job.directory),
        )
        jobs.write_state(job.directory, "running", self.context.run_id)
        stats = self.crawler.stats
        stats.set_value("pkscan/run_id", self.context.run_id)
        if job.resumed_runs:
            stats.set_value("pkscan/resumed_runs", job.resumed_runs)
            spider.logger.info("resuming job %s after interrupted runs %s", job.name, job.resumed_runs)

    def summary(self) -> tuple[int, str]:
        failures = []
        for key, count in self.crawler.stats.get_stats().items():
            if key.startswith(FAILURE_PREFIX):
                host, _, what = key.removeprefix(FAILURE_PREFIX).partition("/")
                failures.append((count, host, what))
        failures.sort(key=lambda f: (-f[0], f[1], f[2]))
        return sum(f[0] for f in failures), "\n".join(
            f"{host}: {count}x {what}" for count, host, what in failures
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        pages = int(stats.get_value("pkscan/captures", 0)) + int(stats.get_value("pkscan/replayed", 0))
        errors, summary = self.summary()
        if reason == "shutdown":
            status = "interrupted"
        # A worker that joined a Redis-shared crawl may find the work already done (scanner.ops.scaleout).
        elif reason not in OK_REASONS or (
            pages == 0 and not stats.get_value("scaleout/joined_running_crawl")
        ):
            status = "failed"
            summary = (
                f"closed: {reason}; " if reason not in OK_REASONS else "nothing could be fetched\n"
            ) + summary
        elif unrecorded := int(stats.get_value(EVIDENCE_WRITE_ERRORS, 0)):
            status = "failed"  # a page without evidence is lost: `scanner evidence verify` says what is kept
            summary = f"evidence not recorded for {unrecorded} responses (WARC write failed)\n" + summary
        else:
            status = "ok"
        stats.set_value("pkscan/status", status)
        self.context.close_recorder()
        if self.context.run_id is None:
            return
        runs.finish_run(
            self.context.engine,
            self.context.run_id,
            status,
            pages=pages,
            items=int(stats.get_value("item_scraped_count", 0)),
            errors=errors,
            error_summary=summary,
            stats={**stats.get_stats(), "finish_reason": reason},
        )
        if self.context.job is not None:
            jobs.write_state(
                self.context.job.directory,
                "paused" if status == "interrupted" else "finished",
                self.context.run_id,
            )
