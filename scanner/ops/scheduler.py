"""`scanner schedule`: one scheduler process running every crawl, poll and re-verification on its cron.

Jobs live in an APScheduler `SQLAlchemyJobStore` in the project database, so a restart keeps their
next run times and a job missed while the scheduler was down still runs (within
``misfire_grace_time``, coalesced to one run). Job ids are stable (``crawl:site:NAME``,
``crawl:discovery``, ``poll:NAME``, ``discover:NAME``, ``reverify``); at start the store is brought
in line with the config: new jobs added, changed ones replaced, removed ones deleted.

Each job runs its command as a subprocess (``python -m scanner.cli.main crawl site --target X``):
a Twisted reactor cannot be restarted inside one process, and a crash or a hang of one crawl must not
take the scheduler down. The child records its own `Run`; the scheduler closes that run as ``failed``
when the child dies without closing it (crash, kill, timeout), records a ``skipped`` run when the
previous run of the same job is still going, and marks its children's runs ``interrupted`` when it is
stopped with SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_SCHEDULER_START,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scanner import runs
from scanner.config import Config
from scanner.ops.lock import HeldLock
from scanner.store.models import Run, utcnow

log = logging.getLogger("scanner.ops.scheduler")

JOBS_TABLE = "apscheduler_jobs"
TRIGGER_ENV = "SCANNER_RUN_TRIGGER"
STOP_GRACE_SECONDS = 25.0  # Scrapy finishes in-flight downloads on SIGTERM; systemd waits 60 s
STDERR_TAIL_LINES = 20


@dataclass(frozen=True)
class JobSpec:
    """One scheduled command: what to run, when, and which Run rows it writes."""

    id: str
    argv: tuple[str, ...]  # arguments after `scanner`
    cron: str  # the config's cron expression, shown by --list
    run_kind: str
    run_name: str
    trigger: BaseTrigger = field(compare=False)

    @property
    def command(self) -> str:
        return "scanner " + " ".join(self.argv)


def cron_trigger(expression: str) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone=UTC)


def job_specs(config: Config, trigger_for: Callable[[str], BaseTrigger] = cron_trigger) -> list[JobSpec]:
    """The jobs the config asks for. ``trigger_for`` maps a cron expression to a trigger (tests shorten it)."""
    groups = config.schedules.groups
    targets = config.targets
    specs: list[JobSpec] = []

    def add(job_id: str, argv: tuple[str, ...], cron: str, kind: str, name: str) -> None:
        specs.append(JobSpec(job_id, argv, cron, kind, name, trigger_for(cron)))

    for site in targets.sites:
        if site.enabled:
            add(f"crawl:site:{site.name}", ("crawl", "site", "--target", site.name), groups[site.schedule],
                "crawl", site.name)
    discovery = targets.discovery
    if discovery.enabled and discovery.schedule in groups:
        add("crawl:discovery", ("crawl", "discovery"), groups[discovery.schedule], "crawl", "discovery")
    for poller in targets.pollers:
        if poller.enabled:
            add(f"poll:{poller.name}", ("poll", poller.name), groups[poller.schedule], "poll", poller.name)
    for source in targets.sources:  # discovery sources: their candidates wait for the discovery crawl
        if source.enabled:
            add(f"discover:{source.name}", ("discover", source.name), groups[source.schedule], "discover", source.name)
    add("reverify", ("reverify",), config.settings.scheduler.reverify_cron, "reverify", "reverify")
    return specs


def make_scheduler(engine: Engine, config: Config, blocking: bool = True, max_workers: int = 8) -> BaseScheduler:
    opts = config.settings.scheduler
    cls = BlockingScheduler if blocking else BackgroundScheduler
    return cls(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers)},
        job_defaults={
            "coalesce": opts.coalesce,
            "max_instances": opts.max_instances,
            "misfire_grace_time": opts.misfire_grace_time_seconds,
        },
        timezone=UTC,
    )


def sync_jobs(scheduler: BaseScheduler, specs: list[JobSpec]) -> dict[str, str]:
    """Bring the (started) scheduler's job store in line with ``specs``; returns {job id: what happened}.

    A job whose command and schedule are unchanged is kept as stored, with its next run time, so that a
    run missed while the scheduler was down still happens after a restart.
    """
    wanted = {spec.id: spec for spec in specs}
    changes: dict[str, str] = {}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            changes[job.id] = "removed"
    for spec in specs:
        existing = scheduler.get_job(spec.id)
        if existing is not None and _same_job(existing, spec):
            changes[spec.id] = "kept"
            continue
        scheduler.add_job(
            run_scheduled_job,
            trigger=spec.trigger,
            args=[spec.id, list(spec.argv), spec.run_kind, spec.run_name],
            id=spec.id,
            name=spec.command,
            replace_existing=True,
        )
        changes[spec.id] = "replaced" if existing is not None else "added"
    return changes


def _same_job(job: Job, spec: JobSpec) -> bool:
    return (
        str(job.trigger) == str(spec.trigger)
        and list(job.args) == [spec.id, list(spec.argv), spec.run_kind, spec.run_name]
        and job.func_ref == f"{__name__}:run_scheduled_job"
    )


def stored_next_runs(engine: Engine, config: Config) -> dict[str, datetime | None]:
    """Next run times as stored in the job store, without running anything (for --list)."""
    scheduler = make_scheduler(engine, config, blocking=False)
    scheduler.start(paused=True)
    try:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


# ---------------------------------------------------------------- running jobs


@dataclass
class Child:
    job_id: str
    kind: str
    name: str
    process: subprocess.Popen[bytes]
    started: datetime
    stderr_tail: deque[str]


class JobRunner:
    """Runs job commands as subprocesses and keeps their Run rows honest."""

    def __init__(
        self,
        engine: Engine,
        timeout_seconds: float,
        env: dict[str, str] | None = None,
        command_prefix: list[str] | None = None,
    ):
        self.engine = engine
        self.timeout_seconds = timeout_seconds
        self.env = dict(os.environ if env is None else env)
        self.env[TRIGGER_ENV] = "schedule"
        self.command_prefix = command_prefix or [sys.executable, "-m", "scanner.cli.main"]
        self.children: dict[str, Child] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.stopping = False

    # -- one job

    def run(self, job_id: str, argv: list[str], kind: str, name: str) -> str:
        """Run one job to its end; returns the final status of its run."""
        if self.stopping:
            return "interrupted"
        busy = [run for run in runs.running_runs(self.engine, kind=kind, name=name) if not self._orphan(run)]
        if busy:
            previous = busy[0]
            reason = (
                f"previous {kind} run #{previous.id} of {name!r} is still running "
                f"(started {previous.started_at:%Y-%m-%d %H:%M:%S} UTC by {previous.trigger}, pid {previous.pid})"
            )
            run_id = runs.record_skipped(self.engine, kind, name, reason)
            log.warning("job skipped", extra={"job": job_id, "run_id": run_id, "reason": reason})
            return "skipped"
        started = utcnow()
        with self._lock:
            if self.stopping:
                return "interrupted"
            process = subprocess.Popen(
                [*self.command_prefix, *argv],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # own process group: a timeout kills the crawl and anything it started
            )
            child = Child(job_id, kind, name, process, started, deque(maxlen=STDERR_TAIL_LINES))
            self.children[job_id] = child
        log.info("job started", extra={"job": job_id, "pid": process.pid, "command": " ".join(argv)})
        reader = threading.Thread(target=_pump_stderr, args=(process, child.stderr_tail), daemon=True)
        reader.start()
        timed_out = False
        try:
            code = process.wait(timeout=self.timeout_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop_group(process, STOP_GRACE_SECONDS)
            code = process.wait()
        reader.join(timeout=5)
        try:
            status = self._settle(child, code, timed_out)
        finally:
            with self._lock:
                self.children.pop(job_id, None)
                self._idle.notify_all()
        log.info("job finished", extra={"job": job_id, "pid": process.pid, "exit_code": code, "status": status})
        return status

    def _settle(self, child: Child, code: int, timed_out: bool) -> str:
        """Close what the child left open; returns the run's final status."""
        if timed_out:
            status, summary = "failed", f"timed out after {self.timeout_seconds:g} s"
        elif self.stopping:
            status, summary = "interrupted", "scheduler stopped (SIGTERM) while the run was going"
        else:
            status, summary = "failed", f"process ended without closing its run: {_describe_exit(code)}"
        tail = "\n".join(child.stderr_tail)
        if tail:
            summary += "\n--- last lines of the process's stderr ---\n" + tail
        own = self._runs_of(child)
        still_open = [run for run in own if run.status == "running"]
        for run in still_open:
            runs.finish_run(self.engine, run.id or 0, status, error_summary=summary)
        if own and not still_open:
            return own[-1].status
        if not own:
            # The child died before it could record anything (bad config, import error, killed at start):
            # record the attempt so that the failure shows in the history.
            if code == 0 and not timed_out and not self.stopping:
                return "ok"
            run_id = runs.start_run(self.engine, child.kind, child.name, trigger="schedule")
            runs.finish_run(self.engine, run_id, status, error_summary=summary)
        return status

    def _orphan(self, run: Run) -> bool:
        """Close a `running` run whose process on this host is gone (a crashed manual run must not block us)."""
        if run.host != socket.gethostname() or run.pid is None or runs._pid_alive(run.pid):
            return False
        runs.finish_run(self.engine, run.id or 0, "interrupted", error_summary="process ended without closing the run")
        return True

    def _runs_of(self, child: Child) -> list[Run]:
        with Session(self.engine) as session:
            query = (
                select(Run)
                .where(Run.pid == child.process.pid, Run.host == socket.gethostname())
                .where(Run.started_at >= child.started)
                .order_by(Run.id)  # type: ignore[arg-type]
            )
            return list(session.exec(query))

    # -- stopping

    def stop_all(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Terminate every running child and wait until their runs are closed."""
        with self._lock:
            self.stopping = True
            children = list(self.children.values())
        for child in children:
            log.warning("terminating job", extra={"job": child.job_id, "pid": child.process.pid})
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        with self._lock:
            while self.children and time.monotonic() < deadline:
                self._idle.wait(timeout=0.2)
            leftovers = list(self.children.values())
        for child in leftovers:
            _signal_group(child.process, signal.SIGKILL)
        with self._lock:
            while self.children:
                self._idle.wait(timeout=0.2)


def _pump_stderr(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
    """Pass the child's (JSON) log lines through to our stderr and keep the last few for the run."""
    assert process.stderr is not None
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        tail.append(line)
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _stop_group(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name} (exit code {code})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# The job store pickles a reference to this function and its arguments; the daemon installs the runner.
_runner: JobRunner | None = None


def run_scheduled_job(job_id: str, argv: list[str], kind: str, name: str) -> str:
    if _runner is None:
        raise RuntimeError("run_scheduled_job called outside a running scheduler")
    return _runner.run(job_id, argv, kind, name)


# ---------------------------------------------------------------- the daemon


class SchedulerDaemon:
    """Lock, job store, runner and signal handling around one APScheduler instance."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        specs: list[JobSpec] | None = None,
        env: dict[str, str] | None = None,
        run_now: list[str] | None = None,
        blocking: bool = True,
        lock: HeldLock | None = None,
    ):
        self.config = config
        self.engine = engine
        self.specs = specs if specs is not None else job_specs(config)
        unknown = sorted(set(run_now or []) - {spec.id for spec in self.specs})
        if unknown:
            raise ValueError(f"unknown job id(s): {', '.join(unknown)} (see `scanner schedule --list`)")
        self.run_now = list(run_now or [])
        self.lock = lock or HeldLock(engine)
        self.runner = JobRunner(engine, config.settings.scheduler.run_timeout_seconds, env=env)
        self.blocking = blocking
        self.scheduler = make_scheduler(engine, config, blocking=blocking)
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_START)
        self.scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        self._by_id = {spec.id: spec for spec in self.specs}
        self.changes: dict[str, str] = {}

    def _on_started(self, _event: SchedulerEvent) -> None:
        # Runs inside start(), before the first look at due jobs: the store matches the config from the outset.
        self.changes = sync_jobs(self.scheduler, self.specs)
        for job_id in self.run_now:
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        log.info("scheduler started", extra={"jobs": self.changes, "holder": self.lock.holder})

    def _on_max_instances(self, event: JobSubmissionEvent) -> None:
        spec = self._by_id.get(event.job_id)
        if spec is None:
            return
        reason = f"previous scheduled run of job {spec.id} is still running in this scheduler"
        runs.record_skipped(self.engine, spec.run_kind, spec.run_name, reason)
        log.warning("job skipped", extra={"job": spec.id, "reason": reason})

    def start(self) -> None:
        """Take the lock and run until stop(); raises SchedulerLocked if another scheduler is live."""
        global _runner
        self.lock.acquire()
        if self.runner.stopping:  # a signal arrived while we were starting
            self.lock.release()
            return
        self.lock.on_lost = self.stop
        self.lock.start_heartbeat()
        _runner = self.runner
        runs.close_orphaned_runs(self.engine)
        self.scheduler.start()
        if self.blocking:  # start() returned: the scheduler was shut down
            self._finish()

    def stop(self, *_args: Any) -> None:
        """Stop taking jobs, end running children (their runs become interrupted), release the lock."""
        self.runner.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self.blocking:
            self._finish()

    def _finish(self) -> None:
        global _runner
        self.runner.stop_all()
        if _runner is self.runner:
            _runner = None
        self.lock.release()
        log.info("scheduler stopped", extra={"holder": self.lock.holder})

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle_signal)

    def _handle_signal(self, signum: int, _frame: Any) -> None:
        log.warning("signal received, stopping", extra={"signal": signal.Signals(signum).name})
        # The blocking scheduler's main loop is waiting in this (main) thread; stopping it from here wakes it.
        threading.Thread(target=self.stop, name="scheduler-stop", daemon=True).start()
