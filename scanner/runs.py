"""Run history: every crawl, poll, scan and re-verification is a row in `run`.

A run is opened as ``running`` and closed exactly once:

- ``ok``: everything it fetched was recorded as evidence, analysed, stored and judged;
- ``degraded``: it finished, but something is missing (analyses not stored, findings not re-judged,
  pages not recorded, a detection worker that died); ``error_summary`` counts what and why, and the
  next run of the job heals it (`scanner.findings.rejudge`, replay in `scanner.crawl.jobs`);
- ``failed``: it could not do its job (nothing fetched, the database lost, a crash);
- ``interrupted``: stopped (Ctrl-C, SIGTERM), or its process died without closing it;
- ``skipped``: a scheduled job that did not start because its previous run was still going.

A run left ``running`` by a process that is gone is closed as ``interrupted`` by
`close_orphaned_runs`, which every `start_run` and ``scanner runs`` call first. On this host the
run's pid tells; a run of another host (several machines sharing PostgreSQL) is gone when its
heartbeat — written every `HEARTBEAT_SECONDS` by a thread of the process that opened it — is older
than `HEARTBEAT_STALE_SECONDS`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from scanner.store.db import retrying
from scanner.store.models import Run, utcnow

log = logging.getLogger(__name__)

FINAL_STATUSES = ("ok", "degraded", "failed", "interrupted", "skipped")
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_STALE_SECONDS = 10 * HEARTBEAT_SECONDS  # a busy database may delay a few beats, not ten


def start_run(engine: Engine, kind: str, name: str, trigger: str = "cli", job_dir: str | None = None) -> int:
    retrying(lambda: close_orphaned_runs(engine), what="closing runs whose process is gone")

    def once() -> int:
        with Session(engine) as session:
            run = Run(kind=kind, name=name, trigger=trigger, pid=os.getpid(), host=socket.gethostname(), job_dir=job_dir,
                      heartbeat_at=utcnow())  # fmt: skip
            session.add(run)
            session.commit()
            assert run.id is not None
            return run.id

    run_id = retrying(once, what=f"opening the {kind} run of {name}")
    _Heartbeat(engine, run_id).start()
    return run_id


class _Heartbeat(threading.Thread):
    """Stamps ``heartbeat_at`` while the run is open; dies with the process (daemon), which is the
    point: a run whose stamps stop belongs to a process that is gone."""

    def __init__(self, engine: Engine, run_id: int):
        super().__init__(name=f"run-{run_id}-heartbeat", daemon=True)
        self.engine, self.run_id = engine, run_id

    def run(self) -> None:
        while True:  # the first beat is the run's row itself
            time.sleep(HEARTBEAT_SECONDS)
            if not self.beat():
                return

    def beat(self) -> bool:
        """One stamp; False once the run is closed (or gone), which ends the thread."""
        stamp = update(Run).where(col(Run.id) == self.run_id, col(Run.status) == "running")
        try:
            with Session(self.engine) as session:
                still_open = session.exec(stamp.values(heartbeat_at=utcnow())).rowcount  # type: ignore[call-overload]
                session.commit()
        except Exception as exc:  # noqa: BLE001 - a missed beat is retried; the run itself reports outages
            log.debug("run %d heartbeat not written: %s", self.run_id, exc)
            return True
        return bool(still_open)


def finish_run(
    engine: Engine,
    run_id: int,
    status: str,
    *,
    pages: int = 0,
    items: int = 0,
    errors: int = 0,
    error_summary: str = "",
    stats: dict[str, Any] | None = None,
) -> Run:
    if status not in FINAL_STATUSES:
        raise ValueError(f"unknown run status {status!r}")

    def once() -> Run:
        with Session(engine, expire_on_commit=False) as session:
            run = session.get(Run, run_id)
            if run is None:
                raise LookupError(f"run {run_id} not found")
            run.status = status
            run.finished_at = utcnow()
            run.pages, run.items, run.errors = pages, items, errors
            run.error_summary = error_summary[:20000]
            if stats is not None:
                run.stats = _jsonable(stats)
            session.add(run)
            session.commit()
            return run

    return retrying(once, what=f"closing run {run_id} as {status}")


def record_skipped(engine: Engine, kind: str, name: str, reason: str, trigger: str = "schedule") -> int:
    run_id = start_run(engine, kind, name, trigger=trigger)
    finish_run(engine, run_id, "skipped", error_summary=reason)
    return run_id


def running_runs(engine: Engine, kind: str | None = None, name: str | None = None) -> list[Run]:
    with Session(engine) as session:
        query = select(Run).where(Run.status == "running")
        if kind:
            query = query.where(Run.kind == kind)
        if name:
            query = query.where(Run.name == name)
        return list(session.exec(query))


def recent_runs(engine: Engine, limit: int = 50) -> list[Run]:
    with Session(engine) as session:
        return list(
            session.exec(select(Run).order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit))
        )


def close_orphaned_runs(engine: Engine, alive: set[int] | None = None) -> int:
    """Mark runs whose process is gone as interrupted (this host: by pid; another host: by a stale
    heartbeat); returns how many."""
    host = socket.gethostname()
    closed = 0
    stale_before = utcnow() - timedelta(seconds=HEARTBEAT_STALE_SECONDS)
    for run in running_runs(engine):
        if run.host != host:
            last_sign = _aware(run.heartbeat_at or run.started_at)
            if last_sign < stale_before:
                summary = f"no heartbeat from host {run.host or '?'} since {last_sign:%Y-%m-%d %H:%M:%S} UTC"
                finish_run(engine, run.id or 0, "interrupted", error_summary=summary)
                closed += 1
            continue
        if run.pid is None:
            continue
        if alive is not None and run.pid in alive:
            continue
        if alive is None and _pid_alive(run.pid, since=run.started_at):
            continue
        finish_run(engine, run.id or 0, "interrupted", error_summary="process ended without closing the run")
        closed += 1
    return closed


def _pid_alive(pid: int, since: datetime | None = None) -> bool:
    """Whether process ``pid`` runs; with ``since``, only if it started by then (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_start(pid)
    if since is None or started is None:
        return True
    since = _aware(since)
    # After a reboot (or in a container) pids start again from low numbers: another process may hold it.
    return started <= since + timedelta(seconds=5)


def _process_start(pid: int) -> datetime | None:
    """When process ``pid`` started (Linux /proc), None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, IndexError, StopIteration):
        return None
    ticks = int(fields[19])  # field 22, starttime, in clock ticks after boot
    return datetime.fromtimestamp(int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC times for rows written before UTCDateTime; compare them as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
