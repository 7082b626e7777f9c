"""Findings re-judged after their analyses changed, even when the run that changed them died.

A crawl stores analyses a batch at a time and re-judges the platforms they touched at intervals, in
other transactions. So that a kill, a dead detection worker or a database outage between the two
cannot leave a finding judged on old analyses for good, the batch's transaction also writes a
`StaleFinding` row per platform (`mark_stale`), and the transaction that re-judges the finding
deletes the rows of its mirror group (`judge`). `rejudge` of `stale_platforms` re-judges what is left: every run
does it at its end (crawls) and ``scanner findings rejudge`` on demand (``--all``: every finding).

A mark of a run still ``running`` is left to that run: it re-judges its own platforms.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner.config import Register
from scanner.detection import Lexicons
from scanner.findings import mirrors
from scanner.findings.store import refresh_finding
from scanner.store.db import StoreUnavailable, retrying, session_scope
from scanner.store.models import Finding, FindingEvent, Platform, Run, StaleFinding, utcnow

log = logging.getLogger(__name__)


def mark_stale(session: Session, platform_ids: Iterable[int], run_id: int | None) -> None:
    """Mark platforms whose analyses this session stores (commit with them)."""
    rows = [{"platform_id": p, "run_id": run_id, "since": utcnow()} for p in sorted(set(platform_ids))]
    if rows:
        session.execute(_MARK_STALE[session.get_bind().dialect.name == "postgresql"], rows)


def _upsert_stale(dialect: Any) -> Any:
    statement = dialect.insert(
        StaleFinding.__table__
    )  # the table: a Core executemany, not the ORM's bulk insert
    return statement.on_conflict_do_update(
        index_elements=["platform_id"],
        set_={"run_id": statement.excluded.run_id, "since": statement.excluded.since},
    )


# Built once (rows bound per call, as an executemany): a crawl marks its platforms with every batch.
_MARK_STALE = {False: _upsert_stale(sqlite), True: _upsert_stale(postgresql)}


def judge(
    session: Session, platform_id: int, lexicons: Lexicons, register: Register | None, run_id: int | None
) -> Finding | None:
    """`refresh_finding`, and the marks of the platform's mirror group cleared in the same transaction."""
    finding = refresh_finding(session, platform_id, lexicons, register, run_id)
    platform = session.get(Platform, platform_id)
    if platform is not None:
        group = mirrors.group_ids(session, mirrors.root_of(session, platform))
        session.execute(delete(StaleFinding).where(col(StaleFinding.platform_id).in_(group)))
    return finding


@dataclass
class RejudgeReport:
    flagged: set[int] = field(default_factory=set)  # finding ids judged "flag"
    cleared: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)  # platform id -> one-line error

    @property
    def judged(self) -> int:
        return len(self.flagged) + len(self.cleared)


def stale_platforms(engine: Engine, *, own_run: int | None = None) -> list[tuple[int, int | None]]:
    """(platform id, run id) of the marks no running run will clear itself (``own_run``'s are included)."""
    with Session(engine) as session:
        query = (
            select(StaleFinding.platform_id, StaleFinding.run_id)
            .outerjoin(Run, col(Run.id) == StaleFinding.run_id)
            .where(or_(col(Run.id).is_(None), Run.status != "running", col(Run.id) == own_run))
            .order_by(col(StaleFinding.platform_id))
        )
        return [(platform_id, run_id) for platform_id, run_id in session.exec(query)]


def all_platforms(engine: Engine) -> list[tuple[int, int | None]]:
    """Every platform with a finding or a mark, for ``rejudge --all``."""
    with Session(engine) as session:
        ids = set(session.exec(select(Finding.platform_id))) | set(
            session.exec(select(StaleFinding.platform_id))
        )
    return [(platform_id, None) for platform_id in sorted(ids)]


def _last_run(session: Session, platform_id: int) -> int | None:
    """The run of the finding's newest event: re-judging updates that run's event rather than adding a sighting."""
    return session.exec(
        select(FindingEvent.run_id)
        .join(Finding, col(Finding.id) == FindingEvent.finding_id)
        .where(Finding.platform_id == platform_id)
        .order_by(col(FindingEvent.id).desc())
        .limit(1)
    ).first()


def rejudge(
    engine: Engine,
    platforms: list[tuple[int, int | None]],
    lexicons: Lexicons,
    register: Register | None,
    *,
    report: RejudgeReport | None = None,
) -> RejudgeReport:
    """Re-judge each (platform, run) in its own transaction; one platform's failure does not stop the rest.

    The run named is the one whose analyses are judged (the mark's run); without one, the run of
    the finding's newest event. A database that stays unreachable raises `StoreUnavailable`.
    """
    report = report or RejudgeReport()
    for platform_id, run_id in platforms:

        def once(platform_id: int = platform_id, run_id: int | None = run_id) -> Finding | None:
            with session_scope(engine) as session:
                if run_id is None:
                    run_id = _last_run(session, platform_id)
                return judge(session, platform_id, lexicons, register, run_id)

        try:
            finding = retrying(once, what=f"re-judging platform {platform_id}")
        except StoreUnavailable:
            raise
        except Exception as exc:
            log.exception("re-judging platform %s failed", platform_id)
            report.failed[platform_id] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        if finding is None or finding.id is None:
            continue
        (report.flagged if finding.verdict == "flag" else report.cleared).add(finding.id)
        (report.cleared if finding.verdict == "flag" else report.flagged).discard(finding.id)
    return report
