"""Serialised check-then-write: the locks that make it safe, consistent snapshots, bounded retries.

A decision or a publication reads the current state, checks it, and writes the next state. Two of
them interleaved would both pass their check against the same old state, so each takes a lock
before its first read:

* PostgreSQL: a row lock (``SELECT … FOR NO KEY UPDATE``) or a transaction-scoped advisory lock.
  Both are released at commit, after the commit is visible, and in READ COMMITTED every statement
  takes a new snapshot, so whoever gets the lock next reads everything the previous holder wrote.
* SQLite: one writer at a time. pysqlite opens a transaction only at the first write, after the
  reads the write was based on, so `write_lock` starts the transaction with ``BEGIN IMMEDIATE``:
  the write lock is taken before the first read and held until commit.

`retrying` re-runs a whole transaction when PostgreSQL aborts it as a deadlock or serialization
failure (the work is then simply done again against the new state), a bounded number of times.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from scanner.store.db import session_scope

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)

# SQLSTATEs after which re-running the transaction is the documented remedy.
RETRYABLE_SQLSTATES = {
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
}


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def write_lock(session: Session) -> None:
    """SQLite: take the database write lock now, before this transaction reads anything.

    A no-op when the transaction already wrote (pysqlite then holds the lock until commit) and on
    PostgreSQL, where the row and advisory locks below do the job.
    """
    if _dialect(session) != "sqlite":
        return
    connection = session.connection()
    raw: Any = connection.connection.dbapi_connection
    if not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_row(session: Session, model: type[M], row_id: int) -> M | None:
    """The row, locked against concurrent writers until this transaction ends (None if absent).

    ``FOR NO KEY UPDATE`` rather than ``FOR UPDATE``: inserting a row that references this one
    (a blocklist entry naming the finding) takes only a key-share lock and need not wait for us.
    """
    write_lock(session)
    primary_key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
    query = select(model).where(primary_key == row_id).with_for_update(key_share=True)
    # the session may hold an older copy of the row: read it again now that it is locked
    return session.exec(query.execution_options(populate_existing=True)).first()


def named_lock(session: Session, name: str) -> None:
    """A lock on a name (not a row) held until this transaction ends, e.g. "feed publication"."""
    if _dialect(session) == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))  # type: ignore[call-overload]
    else:
        write_lock(session)


def read_snapshot(session: Session) -> None:
    """Make every following read of this (fresh) session see one committed state.

    Used by the bank feeds: the version number, the entries and the publication times of one
    artefact must come from the same moment. Does nothing once the session has begun work.
    """
    if session.in_transaction():
        return
    if _dialect(session) == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif _dialect(session) == "sqlite":
        connection = session.connection()
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN")  # deferred: the snapshot is taken at the first read


def retryable(exc: BaseException) -> str | None:
    """Why re-running the transaction may succeed (a deadlock, ...), or None."""
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return RETRYABLE_SQLSTATES.get(sqlstate or "")


class RetriesExhausted(Exception):
    """The transaction failed for a retryable reason on every attempt; str() says which."""


def retrying(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = 5,
    also: Callable[[BaseException], str | None] = lambda _exc: None,
    what: str = "transaction",
) -> T:
    """Run ``work`` in its own committed transaction, again (a bounded number of times, with a short
    jittered backoff) if the database aborted it for a reason in `retryable` or ``also``."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine) as session:
                return work(session)
        except Exception as exc:
            reason = retryable(exc) or also(exc)
            if reason is None:
                raise
            if attempt == attempts:
                raise RetriesExhausted(f"{what}: {reason} on each of {attempts} attempts") from exc
            log.warning("retrying %s after %s (attempt %d of %d)", what, reason, attempt, attempts)
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
