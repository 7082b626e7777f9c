"""One scheduler per database: a `SchedulerLock` row with a heartbeat.

The holder refreshes ``heartbeat_at`` every `HEARTBEAT_SECONDS`; a row whose heartbeat is older than
`STALE_AFTER_SECONDS` belongs to a scheduler that crashed or lost its machine and may be taken over,
so a dead scheduler never blocks the schedule for good. Taking over is a compare-and-swap on the old
holder, so two schedulers racing for a stale lock cannot both win.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from scanner.store.models import SchedulerLock, utcnow

log = logging.getLogger("scanner.ops.lock")

LOCK_NAME = "scheduler"
HEARTBEAT_SECONDS = 15.0
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS


class SchedulerLocked(Exception):
    """Another live scheduler holds the lock; str() tells the operator what to do."""


@dataclass(frozen=True)
class LockInfo:
    holder: str
    heartbeat_at: datetime

    def age_seconds(self) -> float:
        return (utcnow() - _aware(self.heartbeat_at)).total_seconds()


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _aware(moment: datetime) -> datetime:
    # Naive datetimes can come back from SQLite for rows written by raw UPDATEs; they are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_lock(engine: Engine, name: str = LOCK_NAME) -> LockInfo | None:
    with Session(engine) as session:
        row = session.get(SchedulerLock, name)
        return LockInfo(row.holder, _aware(row.heartbeat_at)) if row else None


class HeldLock:
    """The lock while this process holds it: heartbeat thread, release on stop."""

    def __init__(
        self,
        engine: Engine,
        holder: str | None = None,
        name: str = LOCK_NAME,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stale_after_seconds: float = STALE_AFTER_SECONDS,
    ):
        self.engine = engine
        self.holder = holder or default_holder()
        self.name = name
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after = timedelta(seconds=stale_after_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_lost: Callable[[], None] | None = None

    def acquire(self) -> None:
        """Take the lock or raise SchedulerLocked naming the holder."""
        now = utcnow()
        with Session(engine := self.engine) as session:
            row = session.get(SchedulerLock, self.name)
            if row is None:
                session.add(SchedulerLock(name=self.name, holder=self.holder, heartbeat_at=now))
                try:
                    session.commit()
                    return
                except IntegrityError:
                    session.rollback()
                    row = session.get(SchedulerLock, self.name)
                    if row is None:  # released between our insert and read: try once more
                        return self.acquire()
            old_holder, old_beat = row.holder, _aware(row.heartbeat_at)
        age = (now - old_beat).total_seconds()
        if old_holder != self.holder and now - old_beat < self.stale_after:
            raise SchedulerLocked(
                f"another scheduler is already running on this database (holder {old_holder}, "
                f"last heartbeat {age:.0f} s ago); stop it first, or wait until its heartbeat is older "
                f"than {self.stale_after.total_seconds():.0f} s if that process is gone"
            )
        with engine.begin() as conn:
            result = conn.execute(
                update(SchedulerLock)
                .where(
                    SchedulerLock.name == self.name,  # type: ignore[arg-type]
                    SchedulerLock.holder == old_holder,  # type: ignore[arg-type]
                )
                .values(holder=self.holder, heartbeat_at=now)
            )
        if result.rowcount != 1:
            raise SchedulerLocked("another scheduler took over the stale scheduler lock at the same moment")
        if old_holder != self.holder:
            log.warning(
                "took over stale scheduler lock",
                extra={"previous_holder": old_holder, "heartbeat_age_seconds": round(age, 1)},
            )

    def beat(self) -> bool:
        """Refresh the heartbeat; False when the lock is no longer ours."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(SchedulerLock)
                .where(SchedulerLock.name == self.name, SchedulerLock.holder == self.holder)  # type: ignore[arg-type]
                .values(heartbeat_at=utcnow())
            )
        return result.rowcount == 1

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._heartbeat_loop, name="scheduler-heartbeat", daemon=True)
        self._thread.start()

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                still_ours = self.beat()
            except Exception:  # a database hiccup must not kill the heartbeat; the next beat retries
                log.exception("scheduler heartbeat failed")
                continue
            if not still_ours:
                log.error("scheduler lock lost to another process; stopping", extra={"holder": self.holder})
                if self.on_lost:
                    self.on_lost()
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.engine.begin() as conn:
            conn.execute(
                delete(SchedulerLock).where(
                    SchedulerLock.name == self.name, SchedulerLock.holder == self.holder  # type: ignore[arg-type]
                )
            )
