"""A finding's timeline: sightings and score changes (FindingEvent) and officers' decisions, in one line.

Repeated sightings that changed nothing (same kind, score and verdict, one after another) are folded
into one entry with a count and a first/last time, so a platform crawled daily for a year is a few
rows, not hundreds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from scanner.store.models import Decision, FindingEvent


@dataclass
class TimelineEntry:
    at: datetime  # the first moment of the entry
    until: datetime  # the last moment (same as ``at`` unless folded)
    kind: str  # FindingEvent.kind (first | sighting | change | offline) or "decision"
    label: str  # the event kind or the decision's action
    count: int = 1
    score: float | None = None
    verdict: str = ""
    by: str = ""
    reason: str = ""
    capture_id: int | None = None  # the newest capture of the entry


def build_timeline(events: Sequence[FindingEvent], decisions: Sequence[Decision]) -> list[TimelineEntry]:
    """Oldest first. Pure, so folding is tested without a database."""
    items: list[TimelineEntry] = [
        TimelineEntry(e.at, e.at, e.kind, e.kind, score=e.score, verdict=e.verdict, capture_id=e.capture_id)
        for e in events
    ]
    items += [
        TimelineEntry(d.at, d.at, "decision", d.action, by=d.by_user, reason=d.reason) for d in decisions
    ]
    items.sort(key=lambda item: (item.at, item.kind == "decision"))
    folded: list[TimelineEntry] = []
    for item in items:
        last = folded[-1] if folded else None
        if (
            last is not None
            and item.kind == "sighting"
            and last.kind == "sighting"
            and (last.score, last.verdict) == (item.score, item.verdict)
        ):
            last.count += 1
            last.until = item.at
            last.capture_id = item.capture_id or last.capture_id
            continue
        folded.append(item)
    return folded


def finding_timeline(session: Session, finding_id: int, decisions: Sequence[Decision]) -> list[TimelineEntry]:
    """The finding's events from the store with its ``decisions`` (already read by the caller)."""
    events = session.exec(
        select(FindingEvent)
        .where(FindingEvent.finding_id == finding_id)
        .order_by(col(FindingEvent.at), col(FindingEvent.id))
    ).all()
    return build_timeline(events, decisions)
