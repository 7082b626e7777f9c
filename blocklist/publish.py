"""Publication: turn the set of published findings into versioned blocklist entries.

`sync` is called by the decision service after every decision, inside the decision's transaction
(it never commits). Entries are keyed by (type, value): the same domain reached through two
findings is listed once. Rows are never deleted: a withdrawn entry gets ``removed_at`` and
``version_removed``, so every feed can show it as a removal. An entry listed again after a
removal reuses its row (its stable ``entry_id`` is unique) with a new ``version_added``.

Versions follow commit order: `sync` takes the publication lock before it reads anything and
numbers its publication ``current_version + 1`` under it, so no publication can commit with a
lower version than one already visible. A bank that applied version N and asks for changes since
N therefore never misses one (a database sequence would hand out numbers in start order instead).

Before a version is numbered the pending change passes the publication gates (`blocklist.gates`);
a change that fails one is held (`blocklist.holds`) and nothing is published, so banks never see
it. `release` publishes the held change when an admin overrides the gates with a reason. Either
way versions are only allocated under the lock, so `?since` sees every change in order.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from blocklist import gates, holds
from blocklist.entrycheck import entry_problem
from scanner.config import Config
from scanner.review import audit
from scanner.store.models import (
    AuditEvent,
    BlocklistEntry,
    Capture,
    Decision,
    Finding,
    Platform,
    PlatformDomain,
    Publication,
    PublicationHold,
    User,
    utcnow,
)
from scanner.store.serial import named_lock

log = logging.getLogger(__name__)

PUBLICATION_LOCK = "pkscan blocklist publication"
PUBLISHED = "published"
REVOKED = "revoked"
ENTRY_TYPES = ("domain", "url", "app_id")
REFUSED_ACTION = "publication.refused"


def entry_id(type_: str, value: str) -> str:
    """Stable across publications and deployments: a bank can key its own records on it."""
    return hashlib.sha256(f"{type_}:{value}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Wanted:
    """An entry the current set of published findings asks for."""

    type: str
    value: str
    platform_id: int
    finding_id: int
    reason: str
    confidence: float
    evidence_digest: str
    first_seen: datetime


def targets_for(platform_key: str, domains: list[str]) -> list[tuple[str, str]]:
    """(type, value) pairs that block the platform with this key.

    A hosted platform (``t.me/xyz``, an app-store listing) is blocked by its URL and app id, never
    by the host, which serves everyone else too.
    """
    key = platform_key.strip()
    if "/" not in key:
        names = [key.lower().rstrip(".")] + [d.strip().lower().rstrip(".") for d in domains]
        return [("domain", name) for name in dict.fromkeys(names) if name]
    url = key if "://" in key else f"https://{key}"
    pairs = [("url", url)]
    app = app_id(url)
    if app:
        pairs.append(("app_id", app))
    return pairs


def app_id(url: str) -> str | None:
    """The store's app identifier of an app-store listing URL, else None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "play.google.com":
        ids = parse_qs(parts.query).get("id")
        return ids[0] if ids else None
    if host in ("apps.apple.com", "itunes.apple.com"):
        for segment in reversed(parts.path.split("/")):
            if segment.startswith("id") and segment[2:].isdigit():
                return segment
    return None


def _latest_reason(session: Session, finding_id: int, actions: tuple[str, ...]) -> str:
    query = (
        select(Decision.reason)
        .where(Decision.finding_id == finding_id, col(Decision.action).in_(actions))
        .order_by(col(Decision.at).desc(), col(Decision.id).desc())
    )
    return session.exec(query).first() or ""


def wanted_entries(
    session: Session, refused: dict[tuple[str, str], tuple[int, str]]
) -> dict[tuple[str, str], Wanted]:
    """What the published findings ask to be listed, keyed by (type, value).

    Entries whose name fails `blocklist.entrycheck` are left out and put in ``refused`` as
    (finding id, reason).

    A handful of set queries joined on the published findings, not queries per finding: sync runs
    inside every officer decision, with thousands of findings already published.
    """
    published = col(Finding.status) == PUBLISHED
    # plain columns, not ORM objects: building 100k instances took most of the time
    findings = session.exec(
        select(Finding.id, Finding.score, Finding.first_seen, Platform.id, Platform.key)
        .join(Platform, col(Platform.id) == col(Finding.platform_id)).where(published)
        .order_by(col(Finding.id))
    ).all()
    # mirrors: the platform's own alias rows plus platforms recorded as mirrors of it
    domains: dict[int, dict[str, datetime]] = {}
    alias_rows = session.exec(
        select(PlatformDomain.platform_id, PlatformDomain.value, PlatformDomain.first_seen)
        .join(Finding, col(Finding.platform_id) == col(PlatformDomain.platform_id)).where(published)
    )
    for platform_id, value, seen in alias_rows:
        domains.setdefault(platform_id, {})[value.strip().lower().rstrip(".")] = seen
    mirror_rows = session.exec(
        select(Platform.mirror_of_id, Platform.key, Platform.first_seen)
        .join(Finding, col(Finding.platform_id) == col(Platform.mirror_of_id)).where(published)
    )
    for original_id, key, seen in mirror_rows:
        if original_id is not None and "/" not in key:
            domains.setdefault(original_id, {}).setdefault(key.lower(), seen)
    reasons: dict[int, str] = {}
    decision_rows = session.exec(
        select(Decision.finding_id, Decision.reason)
        .join(Finding, col(Finding.id) == col(Decision.finding_id))
        .where(published, Decision.action == "confirm")
        .order_by(col(Decision.at), col(Decision.id))
    )
    # The listing's reason is why an officer confirmed it; an approval only checks that confirmation.
    for finding_id, reason in decision_rows:
        reasons[finding_id] = reason  # the newest confirmation wins
    newest = (
        select(Capture.platform_id, func.max(Capture.seq).label("seq"))
        .join(Finding, col(Finding.platform_id) == col(Capture.platform_id)).where(published)
        .group_by(col(Capture.platform_id)).subquery()
    )
    digests = {
        platform_id: chain or body
        for platform_id, chain, body in session.exec(
            select(Capture.platform_id, Capture.chain_hash, Capture.body_sha256).join(
                newest, (col(Capture.platform_id) == newest.c.platform_id) & (col(Capture.seq) == newest.c.seq)
            )
        )
    }

    wanted: dict[tuple[str, str], Wanted] = {}
    for finding_id, score, finding_seen, platform_id, key in findings:
        first_seen = domains.get(platform_id, {})
        for type_, value in targets_for(key, list(first_seen)):
            if (problem := entry_problem(type_, value)) is not None:
                refused.setdefault((type_, value), (finding_id, problem))
                continue
            wanted.setdefault(
                (type_, value),
                Wanted(
                    type=type_,
                    value=value,
                    platform_id=platform_id,
                    finding_id=finding_id,
                    reason=reasons.get(finding_id, ""),
                    confidence=round(float(score), 4),
                    evidence_digest=digests.get(platform_id, ""),
                    first_seen=min(first_seen.get(value, finding_seen), finding_seen),
                ),
            )
    return wanted


def _record_refusals(session: Session, refused: dict[tuple[str, str], tuple[int, str]]) -> None:
    """Log every refused entry; audit it once per finding and value (sync runs at every decision)."""
    for (type_, value), (finding_id, problem) in refused.items():
        log.warning("blocklist entry refused", extra={"type": type_, "value": value, "finding_id": finding_id, "reason": problem})
        subject = audit.finding_subject(finding_id)
        known = session.exec(
            select(AuditEvent.detail).where(AuditEvent.subject == subject, AuditEvent.action == REFUSED_ACTION)
        ).all()
        if not any(detail.get("type") == type_ and detail.get("value") == value for detail in known):
            audit.record(session, "publication", REFUSED_ACTION, subject, type=type_, value=value, reason=problem)


def current_version(session: Session) -> int:
    """The newest publication's version; 0 before the first publication."""
    return int(session.exec(select(func.max(Publication.version))).one() or 0)


def announce(session: Session, note: str) -> Publication:
    """A version that adds and removes nothing but tells banks something changed about listed
    entries (a dispute opened or answered), so `?since` and TAXII `added_after` carry it.

    Numbered under the publication lock like every version; runs in the caller's transaction.
    """
    named_lock(session, PUBLICATION_LOCK)
    publication = Publication(version=current_version(session) + 1, created_at=utcnow(), note=note[:512])
    session.add(publication)
    session.flush()
    log.info("blocklist version announced", extra={"version": publication.version, "note": note[:200]})
    return publication


class ReleaseError(ValueError):
    """A release that is not allowed or no longer matches the held change; str() says why."""


@dataclass(frozen=True)
class Release:
    """An admin's override of the gates the open hold failed."""

    by: str
    reason: str
    hold_id: int | None = None  # the hold the admin looked at (None: the open one)


def sync(session: Session, config: Config, note: str = "", release: Release | None = None) -> Publication | None:
    """Bring the blocklist in line with the published findings; a new Publication if anything changed.

    Runs in the caller's transaction and does not commit; holds the publication lock until then. An
    entry whose name fails the check is not published: the refusal is logged and recorded once in
    the finding's audit trail. A change that fails a publication gate is held, not published (None),
    unless ``release`` overrides exactly the failures of the open hold.
    """
    named_lock(session, PUBLICATION_LOCK)
    refused: dict[tuple[str, str], tuple[int, str]] = {}
    wanted = wanted_entries(session, refused)
    _record_refusals(session, refused)
    # plain columns first: loading 100k ORM rows on every decision would dominate its cost
    known = {
        (type_, value): (row_id, removed_at is None)
        for row_id, type_, value, removed_at in session.exec(
            select(BlocklistEntry.id, BlocklistEntry.type, BlocklistEntry.value, BlocklistEntry.removed_at)
        )
    }
    to_add = [w for k, w in wanted.items() if not known.get(k, (0, False))[1]]
    remove_ids = [row_id for k, (row_id, active) in known.items() if active and k not in wanted]
    if not to_add and not remove_ids:
        holds.supersede_open(session)
        if release is not None:
            raise ReleaseError("nothing is held: the published findings and the feed agree")
        return None
    change = gates.Change(
        adds=[gates.Added(w.type, w.value, w.platform_id, w.finding_id) for w in to_add],
        removals=len(remove_ids),
        listed=sum(1 for _row_id, active in known.values() if active),
        refused=refused,
        acknowledged=holds.acknowledged_refusals(session),
    )
    failures = gates.check(session, config, change)
    released = None
    if failures and release is None:
        held = holds.hold(session, failures, len(to_add), len(remove_ids))
        log.warning("blocklist change held", extra={"hold_id": held.id, "gates": [f.gate for f in failures]})
        return None
    if failures and release is not None:
        released = _matching_hold(session, failures, release)
        note = note or f"released by {release.by}: {release.reason}"
    else:
        holds.supersede_open(session)
    touched = remove_ids + [known[(w.type, w.value)][0] for w in to_add if (w.type, w.value) in known]
    loaded: dict[int | None, BlocklistEntry] = {}
    for start in range(0, len(touched), 500):  # bounded IN lists (SQLite caps bound parameters)
        chunk = touched[start : start + 500]
        loaded.update((e.id, e) for e in session.exec(select(BlocklistEntry).where(col(BlocklistEntry.id).in_(chunk))))
    to_remove = [loaded[row_id] for row_id in remove_ids]
    rows = {(e.type, e.value): e for e in loaded.values()}

    now = utcnow()
    version = current_version(session) + 1  # under the lock: the next number is ours until we commit
    publication = Publication(
        version=version, created_at=now, adds=len(to_add), removals=len(to_remove), note=note[:512]
    )
    session.add(publication)
    session.flush()

    statuses = dict(session.exec(select(Finding.id, Finding.status)).all()) if to_remove else {}
    removal_reasons: dict[int, str] = {}
    for entry in to_remove:
        if entry.finding_id not in removal_reasons:
            status = statuses.get(entry.finding_id)
            if status == REVOKED:
                removal_reasons[entry.finding_id] = _latest_reason(session, entry.finding_id, ("revoke",)) or "revoked"
            else:
                removal_reasons[entry.finding_id] = (
                    f"finding {entry.finding_id} is no longer published (status: {status or 'missing'})"
                )
        entry.removed_at = now
        entry.version_removed = version
        problem = entry_problem(entry.type, entry.value)  # listed before names were checked
        entry.removal_reason = f"not a valid name: {problem}" if problem else removal_reasons[entry.finding_id]
        session.add(entry)

    new_rows = []
    for w in to_add:
        listing = {
            "platform_id": w.platform_id,
            "finding_id": w.finding_id,
            "reason": w.reason,
            "confidence": w.confidence,
            "evidence_digest": w.evidence_digest,
            "listed_at": now,
            "version_added": version,
            "removed_at": None,
            "version_removed": None,
            "removal_reason": "",
        }
        entry = rows.get((w.type, w.value))
        if entry is None:
            new_rows.append(
                {"entry_id": entry_id(w.type, w.value), "type": w.type, "value": w.value, "first_seen": w.first_seen}
                | listing
            )
            continue
        for name, value in listing.items():  # listed again after a removal: the same row, a new version
            setattr(entry, name, value)
        session.add(entry)
    # a core bulk insert: the first publication of a large list would otherwise build an ORM
    # object per entry
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(BlocklistEntry), new_rows[start : start + 5000])
    session.flush()
    if released is not None and release is not None:
        holds.mark_released(session, released, release.by, release.reason, version)
    log.info("blocklist published", extra={"version": version, "adds": len(to_add), "removals": len(to_remove)})
    return publication


def _matching_hold(session: Session, failures: list[gates.Failure], release: Release) -> PublicationHold:
    """The open hold ``release`` overrides, if the change still fails exactly as it shows."""
    held = holds.open_hold(session)
    if held is None or (release.hold_id is not None and held.id != release.hold_id):
        now = f"hold {held.id} is open now" if held is not None else "no hold is open"
        raise ReleaseError(f"hold {release.hold_id} is no longer the held change ({now}); review it and release again")
    if held.failures != [f.as_json() for f in failures]:
        raise ReleaseError(
            f"the held change {held.id} now fails differently ({', '.join(f.gate for f in failures)}); "
            "review it and release again"
        )
    return held


def release(session: Session, config: Config, by: str, reason: str, hold_id: int | None = None) -> Publication:
    """Publish the held change over its failed gates: only an admin, only with a reason.

    Runs in the caller's transaction (the caller commits); the override is in the audit trail
    (``publication.released``: admin, reason, overridden gates, version).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError("a reason is required to release a held publication")
    user = session.exec(select(User).where(User.username == by)).first()
    if user is None or user.disabled:
        raise ReleaseError(f"unknown or disabled user {by!r}")
    if user.role != "admin":
        raise ReleaseError(f"{by!r} is not an admin (role {user.role}); only an admin may override publication gates")
    publication = sync(session, config, release=Release(by, reason[:2000], hold_id))
    if publication is None:  # the lock was ours: the change vanished between the check and now
        raise ReleaseError("nothing is held: the published findings and the feed agree")
    return publication
