"""Extension: each crawl is a `Run` row (scanner.runs), opened at spider_opened, closed at spider_closed.

At the close it first re-judges every finding left stale (`scanner.findings.rejudge`): this run's,
and those of runs that were killed, lost their database or their detection worker. Then the run is
closed as

- ``interrupted`` after a shutdown (Ctrl-C, SIGTERM: the job resumes next time);
- ``failed`` when the database stayed unreachable (the crawl stopped), nothing could be fetched at
  all, a WARC write failed (evidence lost), or the engine closed for another reason;
- ``degraded`` when a fetched page was not recorded as evidence, a page's analysis was not
  stored, a spider callback raised on a fetched page, a finding could not be re-judged, or the
  detection worker died; the first lines of
  ``error_summary`` count what is missing and why;
- else ``ok``.

Pages are the responses captured or replayed; errors are the requests that finally failed (after
retries), summarised per host in ``error_summary`` (from the ``pkscan/failure/<host>/<what>`` stats
the spiders' errback keeps); the run's ``stats`` keep Scrapy's stats. When even closing the run
fails (database gone), the process exits leaving it ``running``, and the next start closes it as
``interrupted`` (`scanner.runs.close_orphaned_runs`).
"""

from __future__ import annotations

import logging
import resource
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals

from scanner import runs
from scanner.crawl import jobs
from scanner.crawl.capture import EVIDENCE_WRITE_ERRORS
from scanner.crawl.context import CrawlContext
from scanner.crawl.pipelines import database_lost
from scanner.findings.rejudge import RejudgeReport, rejudge, stale_platforms
from scanner.store.db import StoreUnavailable

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

FAILURE_PREFIX = "pkscan/failure/"
OK_REASONS = ("finished", "closespider_pagecount", "closespider_itemcount", "closespider_timeout")
LOST_PREFIX = "pkscan/analysis/lost/"
EVIDENCE_PREFIX = "pkscan/evidence_failures/"
SPIDER_ERRORS = "pkscan/spider_errors"
# Context switches of this process while it crawled (all its threads), voluntary (a thread waited: for
# the interpreter lock, a wake-up, I/O) and involuntary (preempted): each is a hand-over, which costs
# the reactor far more on a loaded host than its CPU time says.
SWITCHES = ("pkscan/crawl_voluntary_switches", "pkscan/crawl_involuntary_switches")
log = logging.getLogger(__name__)


def context_switches() -> tuple[int, int]:
    """This process's (voluntary, involuntary) context switches so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw, usage.ru_nivcsw


class RunRecordExtension:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.cpu_at_open = 0.0
        self.switches_at_open = (0, 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecordExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.cpu_at_open = time.process_time()
        self.switches_at_open = context_switches()
        job = self.context.prepare_job()
        try:
            self.context.run_id = runs.start_run(
                self.context.engine,
                "crawl",
                job.run_name,
                trigger=self.context.trigger,
                job_dir=str(job.directory),
            )
        except StoreUnavailable as exc:
            database_lost(self.crawler, exc)
            return
        jobs.write_state(job.directory, "running", self.context.run_id)
        stats = self.crawler.stats
        stats.set_value("pkscan/run_id", self.context.run_id)
        if job.unreadable_state:
            # Nothing is lost (the crawl starts from its seeds, replaying the paused run's captures): said.
            stats.inc_value(
                f"{FAILURE_PREFIX}crawl job/paused queue unreadable, restarted from the seeds: {job.unreadable_state}"
            )
        if job.resumed_runs:
            stats.set_value("pkscan/resumed_runs", job.resumed_runs)
            spider.logger.info("resuming job %s after interrupted runs %s", job.name, job.resumed_runs)

    def spider_error(self, failure: Failure, response: Response | None, spider: Spider) -> None:
        """A spider callback raised on a fetched page: its analysis or its links may be missing. Counted
        per host and kind in the error summary (Scrapy only logs it), and the run is not ``ok``.
        (Scrapy also sends it, without a response, when making the start requests failed.)"""
        host = (urlsplit(response.url).hostname or "?") if response is not None else "?"
        kind = failure.type.__name__ if failure.type is not None else "error"
        stats = self.crawler.stats
        stats.inc_value(f"{FAILURE_PREFIX}{host}/spider {kind}")
        stats.inc_value(SPIDER_ERRORS)

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

    def heal(self) -> int | None:
        """Re-judge every stale finding no running run owns; returns how many stay unjudged (None: database lost)."""
        context = self.context
        if context.database_lost is not None:
            return None
        try:
            stale = stale_platforms(context.engine, own_run=context.run_id)
            # The rules are compiled only when something is stale (usually the detection worker judged all).
            rules = context.rules if stale else None
            report = (
                rejudge(context.engine, stale, rules.lexicons, rules.register) if rules else RejudgeReport()
            )
            left = len(stale_platforms(context.engine, own_run=context.run_id)) if stale else 0
        except StoreUnavailable as exc:
            context.database_lost = str(exc)
            return None
        context.flagged |= report.flagged
        context.flagged -= report.cleared
        context.findings_flagged = len(context.flagged)
        stats = self.crawler.stats
        stats.set_value("pkscan/findings_flagged", context.findings_flagged)
        stats.set_value("pkscan/findings_rejudged", report.judged)
        return left

    def problems(self, unjudged: int | None) -> list[str]:
        """One line per kind of loss, with counts: why this run is not ``ok``."""
        stats = self.crawler.stats.get_stats()
        lines = []
        if unrecorded := int(stats.get(EVIDENCE_WRITE_ERRORS, 0)):
            lines.append(f"evidence not recorded for {unrecorded} responses (WARC write failed)")
        evidence = {
            k.removeprefix(EVIDENCE_PREFIX): v for k, v in stats.items() if k.startswith(EVIDENCE_PREFIX)
        }
        for what, count in sorted(evidence.items()):
            lines.append(f"{count} fetched pages not recorded as evidence ({what})")
        missing = int(stats.get("pkscan/analysis/expected", 0)) - int(
            stats.get("pkscan/analysis/committed", 0)
        )
        lost = {k.removeprefix(LOST_PREFIX): int(v) for k, v in stats.items() if k.startswith(LOST_PREFIX)}
        for why, count in sorted(lost.items()):
            lines.append(f"{count} page analyses not stored ({why})")
        if (rest := missing - sum(lost.values())) > 0:
            lines.append(f"{rest} page analyses not stored (the crawl ended before they were)")
        if spider_errors := stats.get(SPIDER_ERRORS, 0):
            lines.append(
                f"the spider failed on {spider_errors} fetched pages: their analysis or links may be missing"
            )
        if workers := stats.get("pkscan/detection_worker_failures", 0):
            lines.append(
                f"the detection worker died; {workers} pages were detected and stored by the crawl instead"
            )
        if unjudged:
            lines.append(f"{unjudged} findings not re-judged (still marked: the next run re-judges them)")
        if queue_lost := stats.get("scaleout/queue_lost"):
            lines.append(str(queue_lost))  # scanner.ops.sharedqueue: queued pages never fetched
        self.crawler.stats.set_value("pkscan/missing/analyses", max(missing, 0))
        self.crawler.stats.set_value("pkscan/missing/findings", unjudged or 0)
        return lines

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        # This process's CPU while it crawled (all its threads; start-up and the close's re-judging
        # left out): with the detection worker's, what a crawl costs a host.
        stats.set_value("pkscan/crawl_cpu_seconds", round(time.process_time() - self.cpu_at_open, 3))
        for name, now, then in zip(SWITCHES, context_switches(), self.switches_at_open, strict=True):
            stats.set_value(name, now - then)
        context = self.context
        pages = int(stats.get_value("pkscan/captures", 0)) + int(stats.get_value("pkscan/replayed", 0))
        errors, summary = self.summary()
        problems = self.problems(self.heal())
        if reason == "shutdown":
            status = "interrupted"
        elif context.database_lost is not None:
            status = "failed"
            problems.insert(0, context.database_lost)
        # A worker that joined a Redis-shared crawl may find the work already done (scanner.ops.scaleout).
        elif reason not in OK_REASONS or (
            pages == 0 and not stats.get_value("scaleout/joined_running_crawl")
        ):
            status = "failed"
            problems.insert(
                0, f"closed: {reason}" if reason not in OK_REASONS else "nothing could be fetched"
            )
        elif stats.get_value(EVIDENCE_WRITE_ERRORS, 0):
            status = "failed"  # a page without evidence is lost: `scanner evidence verify` says what is kept
        else:
            status = "degraded" if problems else "ok"
        summary = "\n".join([*problems, summary] if summary else problems)
        stats.set_value("pkscan/status", status)
        context.status, context.problems = status, problems
        context.close_recorder()
        # Of the CPU above, what recording evidence took in the capture thread (its own clock).
        stats.set_value("pkscan/capture_thread_cpu_seconds", round(context.capture_cpu_seconds, 3))
        if context.run_id is None:
            return
        try:
            runs.finish_run(
                context.engine,
                context.run_id,
                status,
                pages=pages,
                items=int(stats.get_value("item_scraped_count", 0)),
                errors=errors,
                error_summary=summary,
                stats={**stats.get_stats(), "finish_reason": reason},
            )
        except StoreUnavailable as exc:
            # Left "running": the next start finds its process gone and closes it as interrupted.
            context.database_lost = context.database_lost or str(exc)
            context.status, context.problems = "failed", [context.database_lost]
            stats.set_value("pkscan/status", "failed")
            log.error("could not close run %s: %s", context.run_id, exc, exc_info=exc)
            return
        if context.job is not None:
            jobs.write_state(
                context.job.directory,
                "paused" if status == "interrupted" else "finished",
                context.run_id,
            )
