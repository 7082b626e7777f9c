"""Login attempts, counted and recorded atomically across threads, processes and web servers.

Each attempt is written and committed *before* the password is checked; then the failed attempts
of the last minute are counted, its own included. Whatever the interleaving, the k-th attempt to
commit sees at least k rows, so at most ``limit`` guesses per minute ever reach the password check
(counting first and recording afterwards let 19 of 30 parallel guesses through a limit of 5). An
attempt the limit refuses is marked ``limited`` and stops counting; a successful one ``ok``.

Two limits: per (username, address), so an attacker elsewhere cannot lock an officer out, and per
address over all usernames, so one address cannot try every account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner.store.db import session_scope
from scanner.store.models import LoginAttempt, utcnow

WINDOW = timedelta(minutes=1)
KEEP = timedelta(days=1)  # older rows are deleted; the audit trail keeps the history
FAILED, LIMITED, OK = "failed", "limited", "ok"


@dataclass(frozen=True)
class Attempt:
    id: int
    allowed: bool
    retry_after: int  # seconds until the oldest counted attempt leaves the window (when refused)


def begin(engine: Engine, username: str, address: str, per_user: int, per_address: int) -> Attempt:
    """Record an attempt (as failed until `succeeded`), then decide whether it may check a password."""
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP))
        row = LoginAttempt(username=username[:128], address=address[:64], outcome=FAILED, at=now)
        session.add(row)
        session.flush()
        attempt_id = row.id or 0
    since = now - WINDOW
    recent = (col(LoginAttempt.outcome) == FAILED) & (col(LoginAttempt.at) >= since)
    with Session(engine) as session:
        mine = session.exec(
            select(LoginAttempt.at).where(recent, LoginAttempt.address == row.address, LoginAttempt.username == row.username)
        ).all()
        from_address = session.exec(
            select(func.count()).select_from(LoginAttempt).where(recent, LoginAttempt.address == row.address)
        ).one()
    if len(mine) <= per_user and from_address <= per_address:
        return Attempt(attempt_id, True, 0)
    _mark(engine, attempt_id, LIMITED)
    oldest = min(mine, default=now)
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
    return Attempt(attempt_id, False, max(1, int((oldest + WINDOW - now).total_seconds()) + 1))


def succeeded(engine: Engine, attempt: Attempt) -> None:
    """The password was right: the attempt no longer counts against the limit."""
    _mark(engine, attempt.id, OK)


def _mark(engine: Engine, attempt_id: int, outcome: str) -> None:
    with session_scope(engine) as session:
        session.execute(update(LoginAttempt).where(col(LoginAttempt.id) == attempt_id).values(outcome=outcome))
