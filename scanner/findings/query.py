"""Reading findings: the queue (one query for the review UI and ``scanner findings list``), the list
for the CLI and scripts, and one finding's signals grouped by kind and value for the review page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, or_
from sqlmodel import Session, col, select

from scanner.store.models import Capture, Finding, PageAnalysis, Platform, PollSnapshot, Signal

UNLISTED = "unlisted"  # the licence filter for findings the register does not name


@dataclass(frozen=True)
class QueueFilter:
    """What an officer (or a script) narrows the queue to; None means any."""

    status: str | None = None
    verdict: str | None = None
    kind: str | None = None  # findings with at least one signal of this kind
    platform: str | None = None  # part of the platform key
    licence: str | None = None  # a licence status, or UNLISTED
    seen_from: datetime | None = None  # last seen on or after
    seen_until: datetime | None = None  # last seen on or before


def queue_query(filters: QueueFilter) -> Any:
    """(Finding, Platform) rows, highest score first, then most recently seen."""
    conditions: list[Any] = []
    if filters.status:
        conditions.append(Finding.status == filters.status)
    if filters.verdict:
        conditions.append(Finding.verdict == filters.verdict)
    if filters.kind:
        conditions.append(col(Finding.id).in_(select(Signal.finding_id).where(Signal.kind == filters.kind)))
    if filters.platform:
        conditions.append(col(Platform.key).contains(filters.platform.strip().lower(), autoescape=True))
    if filters.licence == UNLISTED:
        conditions.append(col(Finding.licence_status).is_(None))
    elif filters.licence:
        conditions.append(Finding.licence_status == filters.licence)
    if filters.seen_from:
        conditions.append(Finding.last_seen >= filters.seen_from)
    if filters.seen_until:
        conditions.append(Finding.last_seen <= filters.seen_until)
    return (
        select(Finding, Platform)
        .join(Platform, col(Platform.id) == Finding.platform_id)
        .where(*conditions)
        .order_by(col(Finding.score).desc(), col(Finding.last_seen).desc(), col(Finding.id))
    )


def list_findings(
    session: Session, *, verdict: str | None = None, status: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Findings, highest score first, as JSON-ready dicts.

    Each has: id, platform, name, kind, verdict, score, status, sightings, first_seen, last_seen,
    licence_status, mirrors (platform keys grouped under it), signals ({kind: count} over the
    current documents), evidence (how many captures those documents came from) and discovered (how a
    discovery source or link found it, see `scanner.discovery.frontier.discovered_by`, else None).
    """
    query = queue_query(QueueFilter(status=status, verdict=verdict))
    if limit:
        query = query.limit(limit)
    rows = list(session.exec(query))
    if not rows:
        return []
    finding_ids = [f.id for f, _ in rows]
    current_pages = select(PageAnalysis.id).where(col(PageAnalysis.superseded).is_(False))
    signal_counts: dict[int, dict[str, int]] = {}
    for finding_id, kind, count in session.exec(
        select(Signal.finding_id, Signal.kind, func.count())
        .where(col(Signal.finding_id).in_(finding_ids), col(Signal.page_analysis_id).in_(current_pages))
        .group_by(Signal.finding_id, Signal.kind)
    ):
        signal_counts.setdefault(finding_id, {})[kind] = count
    mirrors: dict[int, list[str]] = {}
    for parent, key in session.exec(
        select(Platform.mirror_of_id, Platform.key).where(col(Platform.mirror_of_id).is_not(None))
    ):
        mirrors.setdefault(parent or 0, []).append(key)
    evidence: dict[int, int] = {}
    for platform_id, count in session.exec(
        select(PageAnalysis.platform_id, func.count(func.distinct(PageAnalysis.capture_id)))
        .where(col(PageAnalysis.superseded).is_(False))
        .group_by(PageAnalysis.platform_id)
    ):
        evidence[platform_id] = count
    from scanner.discovery.frontier import discovered_by

    discovered = discovered_by(session, [platform.key for _, platform in rows])
    out = []
    for finding, platform in rows:
        group = [platform.id or 0, *(_ids(session, mirrors.get(platform.id or 0, [])))]
        out.append(
            {
                "id": finding.id,
                "platform": platform.key,
                "name": platform.name,
                "kind": platform.kind,
                "verdict": finding.verdict,
                "score": round(finding.score, 4),
                "status": finding.status,
                "sightings": finding.sightings,
                "first_seen": finding.first_seen.isoformat(),
                "last_seen": finding.last_seen.isoformat(),
                "licence_status": finding.licence_status,
                "mirrors": sorted(mirrors.get(platform.id or 0, [])),
                "signals": dict(sorted(signal_counts.get(finding.id or 0, {}).items())),
                "evidence": sum(evidence.get(pid, 0) for pid in group),
                # how discovery found it (source, the response that named it, why); None if configured
                "discovered": discovered.get(platform.key),
            }
        )
    return out


def _ids(session: Session, keys: list[str]) -> list[int]:
    if not keys:
        return []
    return [
        pid for pid in session.exec(select(Platform.id).where(col(Platform.key).in_(keys))) if pid is not None
    ]


# ---------------------------------------------------------------- one finding's signals, grouped


@dataclass(frozen=True)
class SignalSighting:
    """One signal as found in one capture: where, when and the snippet around it."""

    capture_id: int | None
    url: str
    seen_at: datetime
    snippet: str
    locator: str


# A hostile platform decides how many distinct values its pages carry and how often: the page shows
# the strongest groups and each group's newest sightings; the counts above them stay whole, and the
# evidence bundle holds every signal.
MAX_GROUPS_SHOWN = 300
MAX_SIGHTINGS_SHOWN = 20


@dataclass
class SignalGroup:
    """Every occurrence of one (kind, value) on a platform's current pages.

    ``captures`` counts distinct captures (a value repeated on one page counts once) and
    ``occurrences`` every occurrence; ``sightings`` lists the newest of them (at most
    ``MAX_SIGHTINGS_SHOWN`` from the store) for the officer who expands the group.
    """

    kind: str
    value: str
    weight: float
    first_seen: datetime
    last_seen: datetime
    captures: int = 0
    occurrences: int = 0
    sightings: list[SignalSighting] = field(default_factory=list)

    @property
    def latest(self) -> SignalSighting:
        return self.sightings[0]

    @property
    def unlisted(self) -> int:
        """Occurrences not among ``sightings``."""
        return self.occurrences - len(self.sightings)


@dataclass
class SignalKind:
    """The groups of one signal kind, for a page that shows one card per kind."""

    kind: str
    groups: list[SignalGroup]

    @property
    def weight(self) -> float:
        return max(group.weight for group in self.groups)

    @property
    def occurrences(self) -> int:
        return sum(group.occurrences for group in self.groups)


@dataclass
class SignalOverview:
    """A finding's signals for its page: the strongest groups, and counts over all of them."""

    groups: list[SignalGroup]
    distinct: int  # (kind, value) groups in all
    occurrences: int
    captures: int  # distinct captures any signal was found in

    @property
    def unlisted(self) -> int:
        """Groups not among ``groups``."""
        return self.distinct - len(self.groups)

    @property
    def kinds(self) -> list[SignalKind]:
        return by_kind(self.groups)


def by_kind(groups: Iterable[SignalGroup]) -> list[SignalKind]:
    """Kinds with their strongest signal first; within a kind the order of ``groups`` is kept."""
    kinds: dict[str, SignalKind] = {}
    for group in groups:
        kinds.setdefault(group.kind, SignalKind(group.kind, [])).groups.append(group)
    return sorted(kinds.values(), key=lambda k: (-k.weight, k.kind))


def _current(finding_id: int) -> Any:
    """A finding's signals on its platform's current documents.

    Signals of superseded pages stay in the history and the evidence bundle, not on the page.
    """
    return (Signal.finding_id == finding_id) & or_(
        col(Signal.page_analysis_id).is_(None),
        col(Signal.page_analysis_id).in_(select(PageAnalysis.id).where(col(PageAnalysis.superseded).is_(False))),
    )


def signal_overview(
    session: Session,
    finding_id: int,
    max_groups: int = MAX_GROUPS_SHOWN,
    max_sightings: int = MAX_SIGHTINGS_SHOWN,
) -> SignalOverview:
    """A finding's current signals grouped by (kind, value), strongest weight first, then the most
    captures; grouped and cut in the database, so the page loads and renders a bounded amount however
    many signals there are (the database still groups every one of them).

    A sighting's time is its capture's fetch time when the capture is known (when the platform showed
    it), else when detection stored the signal. A signal without a capture (an API figure) counts as a
    capture of its own.
    """
    current = _current(finding_id)
    seen = func.coalesce(Capture.fetched_at, Signal.seen_at)
    captures = func.count(distinct(Signal.capture_id)) + func.sum(case((col(Signal.capture_id).is_(None), 1), else_=0))
    strongest = (
        select(
            Signal.kind,
            Signal.value,
            func.max(Signal.weight).label("weight"),
            func.min(seen).label("first_seen"),
            func.max(seen).label("last_seen"),
            func.count().label("occurrences"),
            captures.label("captures"),
        )
        .join(Capture, col(Capture.id) == col(Signal.capture_id), isouter=True)
        .where(current)
        .group_by(Signal.kind, Signal.value)
        .order_by(func.max(Signal.weight).desc(), captures.desc(), Signal.kind, Signal.value)
        .limit(max_groups)
    )
    groups = {
        (row.kind, row.value): SignalGroup(
            row.kind, row.value, row.weight, row.first_seen, row.last_seen, row.captures, row.occurrences
        )
        for row in session.exec(strongest)  # type: ignore[call-overload]
    }
    top = strongest.subquery()
    newest = (
        select(
            Signal.kind,
            Signal.value,
            Signal.capture_id,
            Capture.url,
            seen.label("seen_at"),
            Signal.snippet,
            Signal.locator,
            func.row_number()
            .over(
                partition_by=(Signal.kind, Signal.value),
                order_by=(seen.desc(), func.coalesce(Signal.capture_id, 0).desc(), col(Signal.id).desc()),
            )
            .label("rank"),
        )
        .join(Capture, col(Capture.id) == col(Signal.capture_id), isouter=True)
        .join(top, (top.c.kind == Signal.kind) & (top.c.value == Signal.value))
        .where(current)
        .subquery()
    )
    for row in session.exec(  # type: ignore[call-overload]
        select(*newest.c).where(newest.c.rank <= max_sightings).order_by(newest.c.rank)
    ):
        groups[(row.kind, row.value)].sightings.append(
            SignalSighting(row.capture_id, row.url or "", row.seen_at, row.snippet, row.locator)
        )
    occurrences, distinct_captures = session.exec(  # type: ignore[call-overload]
        select(func.count(), func.count(distinct(Signal.capture_id))).where(current)
    ).one()
    distinct_groups = session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(select(Signal.kind, Signal.value).where(current).distinct().subquery())
    ).one()
    ordered = sorted(groups.values(), key=lambda g: (-g.weight, -g.captures, g.kind, g.value))
    return SignalOverview(ordered, distinct_groups, occurrences, distinct_captures)


# ---------------------------------------------------------------- P2P exposure over time


def rail_history(
    session: Session, platform_id: int, fiat: str = "PKR", top: int = 6
) -> dict[str, list[tuple[datetime, float]]]:
    """Available ``fiat`` volume per payment rail at each poll of the platform, for a chart.

    One point per poll run (its snapshots of several assets summed; the run's last snapshot time),
    the ``top`` rails by their latest volume each with a line, the others summed as "other rails".
    """
    snapshots = session.exec(
        select(PollSnapshot)
        .where(PollSnapshot.platform_id == platform_id, PollSnapshot.fiat == fiat)
        .order_by(col(PollSnapshot.taken_at), col(PollSnapshot.id))
    ).all()
    polls: dict[tuple[str, int], dict[str, Any]] = {}
    for snapshot in snapshots:
        # A snapshot without a run (written by a test or an import) is a poll of its own.
        key = ("run", snapshot.run_id) if snapshot.run_id is not None else ("snapshot", snapshot.id or 0)
        poll = polls.setdefault(key, {"at": snapshot.taken_at, "rails": {}})
        poll["at"] = max(poll["at"], snapshot.taken_at)
        for rail, figures in snapshot.rails.items():
            poll["rails"][rail] = poll["rails"].get(rail, 0.0) + float(figures.get("available_fiat") or 0)
    ordered = sorted(polls.values(), key=lambda poll: poll["at"])
    if not ordered:
        return {}
    latest = ordered[-1]["rails"]
    every = {rail for poll in ordered for rail in poll["rails"]}
    ranked = sorted(every, key=lambda rail: (-latest.get(rail, 0.0), rail))
    shown, rest = ranked[:top], set(ranked[top:])
    series: dict[str, list[tuple[datetime, float]]] = {
        rail: [(poll["at"], poll["rails"].get(rail, 0.0)) for poll in ordered] for rail in shown
    }
    if rest:
        series["other rails"] = [
            (poll["at"], sum(v for rail, v in poll["rails"].items() if rail in rest)) for poll in ordered
        ]
    return series
