"""Figures for the review dashboard: findings per status and per week, top payment rails, new
platforms by where discovery found them. Plain counts; the web layer turns them into charts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from scanner.pollers.storage import exposure
from scanner.store.models import Candidate, Finding, Platform, utcnow

CONFIGURED = "configured targets and pollers"
LINK = "link on a crawled page"


@dataclass
class Weekly:
    weeks: list[datetime]  # each week's Monday 00:00 UTC, oldest first
    counts: dict[str, list[int]]  # series name -> one count per week


def week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _weeks(now: datetime, weeks: int) -> list[datetime]:
    last = week_start(now)
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _reviewable() -> object:
    # What an officer works on: flagged findings, and any finding an officer already decided.
    return or_(Finding.verdict == "flag", Finding.status != "new")


def status_counts(session: Session, statuses: tuple[str, ...]) -> list[tuple[str, int]]:
    """Findings per status in ``statuses`` order (zero counts kept, so the chart's rows stay put)."""
    rows = dict(
        session.exec(select(Finding.status, func.count()).where(_reviewable()).group_by(Finding.status)).all()  # type: ignore[arg-type]
    )
    return [(status, int(rows.get(status, 0))) for status in statuses]


def findings_per_week(
    session: Session, statuses: tuple[str, ...], weeks: int = 12, now: datetime | None = None
) -> Weekly:
    """Findings first seen in each of the last ``weeks`` weeks, split by their current status."""
    starts = _weeks(now or utcnow(), weeks)
    index = {start: n for n, start in enumerate(starts)}
    counts = {status: [0] * weeks for status in statuses}
    query = select(Finding.first_seen, Finding.status).where(
        _reviewable(), col(Finding.first_seen) >= starts[0]
    )
    for first_seen, status in session.exec(query):
        n = index.get(week_start(first_seen))
        if n is not None and status in counts:
            counts[status][n] += 1
    return Weekly(starts, counts)


def discovery_source(platform: Platform, candidate_source: str | None) -> str:
    """How a platform came in: the discovery source that first named it (`Candidate.source`:
    an outbound link of a crawled page, or a source adapter such as crt.sh), else configuration."""
    if candidate_source and candidate_source != "link":
        return candidate_source
    if candidate_source == "link" or platform.found_on_url:
        return LINK
    return CONFIGURED


def new_platforms_by_source(
    session: Session, weeks: int = 12, now: datetime | None = None, top: int = 8
) -> list[tuple[str, int]]:
    """Platforms first seen in the last ``weeks`` weeks per source, most first; the rest as "other sources"."""
    since = _weeks(now or utcnow(), weeks)[0]
    rows = session.exec(
        select(Platform, Candidate.source)
        .join(Candidate, col(Candidate.key) == col(Platform.key), isouter=True)
        .where(col(Platform.first_seen) >= since)
    ).all()
    counts = Counter(discovery_source(platform, source) for platform, source in rows)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown, rest = ranked[:top], ranked[top:]
    if rest:
        shown.append(("other sources", sum(count for _, count in rest)))
    return shown


def top_rails(session: Session, fiat: str = "PKR", top: int = 10) -> list[tuple[str, float, int]]:
    """(rail, available volume, ads) over every platform's latest poll snapshot, largest volume first."""
    volume: Counter[str] = Counter()
    ads: Counter[str] = Counter()
    for point in exposure(session, latest=True):
        if point.fiat == fiat:
            volume[point.rail] += point.available_fiat
            ads[point.rail] += point.ads
    ranked = sorted(volume, key=lambda rail: (-volume[rail], rail))[:top]
    return [(rail, round(volume[rail], 2), ads[rail]) for rail in ranked]
