"""Held publications: a blocklist change a gate stopped, shown to officers until it is resolved.

At most one hold is open (``status == "held"``): it describes the pending change (published
findings vs. listed entries) and why it failed. Every sync under the publication lock re-checks the
pending change: when it fails the same way the open hold stays as it is; when it fails differently
the open hold is superseded by a new one (each audited once); when it passes or nothing is pending
any more, the open hold is superseded and the change is published as usual.

An admin releases the open hold (`blocklist.publish.release`): the change is published despite the
failures it was held for, and the hold records who released it, why and as which version. A release
names the failures it overrides, so a change that failed differently in the meantime is refused.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from blocklist.gates import VALID_NAME, Failure
from scanner.review import audit
from scanner.store.models import PublicationHold, utcnow

HELD = "held"
SUPERSEDED = "superseded"
RELEASED = "released"
HELD_ACTION = "publication.held"
RELEASED_ACTION = "publication.released"


def subject(hold_id: int | None) -> str:
    return f"publication-hold:{hold_id}"


def open_hold(session: Session) -> PublicationHold | None:
    return session.exec(
        select(PublicationHold).where(PublicationHold.status == HELD).order_by(col(PublicationHold.id).desc())
    ).first()


def recent(session: Session, limit: int = 20) -> list[PublicationHold]:
    """The newest holds, open or closed (what the review UI and ``scanner feed held`` show)."""
    return list(session.exec(select(PublicationHold).order_by(col(PublicationHold.id).desc()).limit(limit)))


def _close(hold: PublicationHold, status: str) -> None:
    hold.status = status
    hold.closed_at = utcnow()


def supersede_open(session: Session) -> None:
    """The pending change passed the gates or is gone: nothing is held any more."""
    hold = open_hold(session)
    if hold is not None:
        _close(hold, SUPERSEDED)
        session.add(hold)


def hold(session: Session, failures: list[Failure], adds: int, removals: int) -> PublicationHold:
    """Hold the pending change: the open hold if it failed the same way, else a new (audited) one."""
    as_json = [f.as_json() for f in failures]
    current = open_hold(session)
    if current is not None and current.failures == as_json and (current.adds, current.removals) == (adds, removals):
        return current
    if current is not None:
        _close(current, SUPERSEDED)
        session.add(current)
    new = PublicationHold(adds=adds, removals=removals, failures=as_json)
    session.add(new)
    session.flush()
    audit.record(
        session, "publication", HELD_ACTION, subject(new.id), adds=adds, removals=removals,
        gates=[f.gate for f in failures], failures=[f.message for f in failures],
    )  # fmt: skip
    return new


def mark_released(session: Session, held: PublicationHold, by: str, reason: str, version: int) -> None:
    _close(held, RELEASED)
    held.released_by = by
    held.release_reason = reason
    held.version = version
    session.add(held)
    audit.record(
        session, by, RELEASED_ACTION, subject(held.id), version=version, reason=reason,
        gates=[f["gate"] for f in held.failures], failures=[f["message"] for f in held.failures],
    )  # fmt: skip


def acknowledged_refusals(session: Session) -> frozenset[tuple[str, str]]:
    """Invalid names an admin released a version past: they stay unpublished but hold nothing more."""
    rows = session.exec(select(PublicationHold.failures).where(PublicationHold.status == RELEASED))
    names: set[tuple[str, str]] = set()
    for failures in rows:
        for failure in failures:
            if failure.get("gate") == VALID_NAME:
                names.update((e["type"], e["value"]) for e in failure.get("entries", []))
    return frozenset(names)


def describe(held: PublicationHold) -> list[str]:
    """One line per failed gate and per listed entry, for the CLI."""
    lines: list[str] = []
    for failure in held.failures:
        lines.append(f"{failure['gate']}: {failure['message']}")
        entries: list[dict[str, Any]] = failure.get("entries", [])
        lines.extend(f"  {e['type']} {e['value']} (finding {e['finding_id']}): {e['why']}" for e in entries)
    return lines
