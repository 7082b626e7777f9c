"""What a feed shows at one version: the entries to add and the removals, read once from the store.

Writers in `blocklist.formats` are pure functions of a `FeedView`, so the same bytes come out of the
HTTP feed, TAXII and `scanner export`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from blocklist.entrycheck import entry_problem
from blocklist.publish import current_version
from scanner.config import Config
from scanner.printable import visible, visible_in_page
from scanner.review.disputes import PUBLIC_STATUS
from scanner.store.models import BlocklistEntry, Dispute, Platform, PollSnapshot, Publication
from scanner.store.serial import read_snapshot

log = logging.getLogger(__name__)


class FeedError(ValueError):
    """A feed request that cannot be answered (e.g. a `since` newer than the feed)."""


def utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str:
    value = utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if value else ""


@dataclass(frozen=True)
class FeedEntry:
    entry_id: str
    type: str
    value: str
    platform: str
    platform_id: int
    reason: str
    finding_id: int
    first_seen: datetime
    listed_at: datetime
    confidence: float
    evidence_digest: str
    version_added: int
    removed_at: datetime | None = None
    version_removed: int | None = None
    removal_reason: str = ""
    dispute: str = "none"  # none | open | upheld | revoked (`scanner.review.disputes.PUBLIC_STATUS`)
    dispute_version: int | None = None  # the version that published the current dispute status
    dispute_changed_at: datetime | None = None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None

    @property
    def changed_in(self) -> int:
        """The newest version that changed this entry: added, removed or its dispute status."""
        return max(self.version_removed or 0, self.version_added, self.dispute_version or 0)

    @property
    def changed_at(self) -> datetime:
        moments = [self.listed_at, self.removed_at, self.dispute_changed_at]
        return max(m for m in moments if m is not None)


@dataclass(frozen=True)
class DisputeState:
    status: str
    version: int | None
    changed_at: datetime | None


def dispute_states(session: Session) -> dict[str, DisputeState]:
    """Per entry id, the dispute status banks see: open while any dispute of it is unanswered, else
    how the latest was answered; with the newest version that published a change of it."""
    rows = session.exec(
        select(Dispute.entry_id, Dispute.status, Dispute.version, Dispute.opened_at, Dispute.resolved_at).order_by(
            col(Dispute.id)
        )
    ).all()
    states: dict[str, DisputeState] = {}
    for entry_id, status, version, opened_at, resolved_at in rows:
        known = states.get(entry_id)
        public = PUBLIC_STATUS.get(status, status)
        newest = max((v for v in (version, known.version if known else None) if v), default=None)
        if known is not None and known.status == "open" and public != "open":
            states[entry_id] = DisputeState("open", newest, known.changed_at)  # unanswered outranks answered
        else:
            states[entry_id] = DisputeState(public, newest, utc(resolved_at or opened_at))
    return states


@dataclass
class FeedView:
    version: int
    generated_at: datetime
    publisher: str
    rpz_zone: str
    since: int | None
    entries: list[FeedEntry]  # listed now (and, with `since`, added after it)
    removals: list[FeedEntry]  # withdrawn (after `since`, if given)
    published_at: dict[int, datetime] = field(default_factory=dict)  # version -> publication time
    rails: dict[str, dict[str, Any]] = field(default_factory=dict)  # platform key -> newest snapshot

    @property
    def incremental(self) -> bool:
        return self.since is not None


_COLUMNS = (
    BlocklistEntry.entry_id,
    BlocklistEntry.type,
    BlocklistEntry.value,
    Platform.key,
    BlocklistEntry.platform_id,
    BlocklistEntry.reason,
    BlocklistEntry.finding_id,
    BlocklistEntry.first_seen,
    BlocklistEntry.listed_at,
    BlocklistEntry.confidence,
    BlocklistEntry.evidence_digest,
    BlocklistEntry.version_added,
    BlocklistEntry.removed_at,
    BlocklistEntry.version_removed,
    BlocklistEntry.removal_reason,
)


def feed_text(text: str) -> str:
    """An officer's reason as banks get it: control and format characters written out (``\\x1b``,
    ``\\u202e``, ``\\u200b``), line breaks and tabs kept (the officer's layout; the CSV quotes them,
    JSON escapes them). A right-to-left override typed or pasted into a reason reversed what a
    bank's analyst read, ESC drove their terminal, and a NUL stored before
    `scanner.printable.storable` reached the CSV as it was."""
    return visible_in_page(text)


def load_view(session: Session, config: Config, since: int | None = None, rails: bool = False) -> FeedView:
    """The feed at the current version; with ``since``, only what changed after that version.

    Reads one snapshot when ``session`` is fresh, so the version and the rows agree.
    """
    read_snapshot(session)
    version = current_version(session)
    if since is not None:
        if since < 0:
            raise FeedError(f"since={since}: a version is a non-negative integer")
        if since > version:
            raise FeedError(f"since={since} is newer than the current feed version {version}")
    published_at = {int(v): utc(t) for v, t in session.exec(select(Publication.version, Publication.created_at))}
    disputes = dispute_states(session)
    query = select(*_COLUMNS).join(Platform, col(Platform.id) == col(BlocklistEntry.platform_id))
    if since is not None:
        # an entry whose dispute status changed after `since` is stated again
        restated = [entry_id for entry_id, state in disputes.items() if (state.version or 0) > since]
        query = query.where(
            (col(BlocklistEntry.version_added) > since)
            | (col(BlocklistEntry.version_removed) > since)
            | col(BlocklistEntry.entry_id).in_(restated)
        )
    entries: list[FeedEntry] = []
    removals: list[FeedEntry] = []
    for row in session.exec(query.order_by(col(BlocklistEntry.type), col(BlocklistEntry.value))):
        dispute = disputes.get(row[0])
        entry = FeedEntry(
            *row[:5],
            feed_text(row[5]),
            row[6],
            first_seen=utc(row[7]),
            listed_at=utc(row[8]),
            confidence=float(row[9]),
            evidence_digest=row[10],
            version_added=int(row[11]),
            removed_at=utc(row[12]),
            version_removed=row[13],
            removal_reason=feed_text(row[14]),
            dispute=dispute.status if dispute else "none",
            dispute_version=dispute.version if dispute else None,
            dispute_changed_at=dispute.changed_at if dispute else None,
        )  # type: ignore[arg-type]
        if (problem := entry_problem(entry.type, entry.value)) is not None:
            # Stored before names were checked at publication: never shown to a bank.
            log.warning("blocklist entry left out of the feed", extra={"entry_id": entry.entry_id, "reason": problem})
            continue
        if entry.removed:
            removals.append(entry)
        elif since is None or entry.changed_in > since:
            entries.append(entry)
    settings = config.settings.feed
    view = FeedView(
        version=version,
        generated_at=published_at.get(version) or datetime(1970, 1, 1, tzinfo=UTC),
        publisher=settings.publisher_name,
        rpz_zone=settings.rpz_zone,
        since=since,
        entries=entries,
        removals=removals,
        published_at=published_at,
    )
    if rails:
        view.rails = newest_rails(session, {e.platform_id for e in entries})
    return view


def rails_marker(session: Session) -> int:
    """Changes whenever a new poll snapshot lands: part of the rails artefact's cache key."""
    return int(session.exec(select(PollSnapshot.id).order_by(col(PollSnapshot.id).desc())).first() or 0)


def newest_rails(session: Session, platform_ids: set[int]) -> dict[str, dict[str, Any]]:
    """Per listed platform, the rails of its newest P2P snapshot per adapter/fiat/asset."""
    from scanner.pollers.storage import latest_snapshots

    if not platform_ids:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for snapshot, key in reversed(latest_snapshots(session, platform_ids)):  # newest first, as before
        out.setdefault(key, {"snapshots": []})["snapshots"].append(
            {
                "adapter": snapshot.adapter,
                "fiat": snapshot.fiat,
                "asset": snapshot.asset,
                "taken_at": iso(snapshot.taken_at),
                # Rail names come from exchange APIs; those stored before they were written out (a lone
                # surrogate from a JSON escape) made the whole rails.json fail to encode.
                "rails": {visible(rail): stats for rail, stats in (snapshot.rails or {}).items()},
            }
        )
    return out
