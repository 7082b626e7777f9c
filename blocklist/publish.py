"""Publication: turn the set of published findings into versioned blocklist entries.

`sync` is called by the decision service after every decision, inside the decision's transaction
(it never commits). Entries are keyed by (type, value): the same domain reached through two
findings is listed once. Rows are never deleted: a withdrawn entry gets ``removed_at`` and
``version_removed``, so every feed can show it as a removal. An entry listed again after a
removal reuses its row (its stable ``entry_id`` is unique) with a new ``version_added``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, col, func, select

from scanner.config import Config
from scanner.store.models import (
    BlocklistEntry,
    Capture,
    Decision,
    Finding,
    Platform,
    PlatformDomain,
    Publication,
    utcnow,
)

log = logging.getLogger(__name__)

PUBLISHED = "published"
REVOKED = "revoked"
ENTRY_TYPES = ("domain", "url", "app_id")


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


def targets_for(platform: Platform, domains: list[str]) -> list[tuple[str, str]]:
    """(type, value) pairs that block ``platform``.

    A hosted platform (``t.me/xyz``, an app-store listing) is blocked by its URL and app id, never
    by the host, which serves everyone else too.
    """
    key = platform.key.strip().lower() if "/" not in platform.key else platform.key.strip()
    if "/" not in key:
        pairs = [("domain", key)]
        pairs += [("domain", d.strip().lower().rstrip(".")) for d in domains]
        return list(dict.fromkeys(p for p in pairs if p[1]))
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


def _evidence_digest(session: Session, platform_id: int) -> str:
    query = (
        select(Capture.chain_hash, Capture.body_sha256)
        .where(Capture.platform_id == platform_id)
        .order_by(col(Capture.fetched_at).desc(), col(Capture.seq).desc())
    )
    row = session.exec(query).first()
    return (row[0] or row[1]) if row else ""


def wanted_entries(session: Session) -> dict[tuple[str, str], Wanted]:
    """What the published findings ask to be listed, keyed by (type, value)."""
    wanted: dict[tuple[str, str], Wanted] = {}
    query = (
        select(Finding, Platform)
        .join(Platform, col(Platform.id) == col(Finding.platform_id))
        .where(Finding.status == PUBLISHED)
        .order_by(col(Finding.id))
    )
    for finding, platform in session.exec(query):
        assert finding.id is not None and platform.id is not None
        # mirrors: the platform's own alias rows plus platforms recorded as mirrors of it
        domain_rows = list(session.exec(select(PlatformDomain).where(PlatformDomain.platform_id == platform.id)))
        mirrors = list(session.exec(select(Platform).where(Platform.mirror_of_id == platform.id)))
        first_seen = {d.value.strip().lower().rstrip("."): d.first_seen for d in domain_rows}
        for mirror in mirrors:
            if "/" not in mirror.key:
                first_seen.setdefault(mirror.key.lower(), mirror.first_seen)
        reason = _latest_reason(session, finding.id, ("confirm", "approve"))
        digest = _evidence_digest(session, platform.id)
        for type_, value in targets_for(platform, list(first_seen)):
            wanted.setdefault(
                (type_, value),
                Wanted(
                    type=type_,
                    value=value,
                    platform_id=platform.id,
                    finding_id=finding.id,
                    reason=reason,
                    confidence=round(float(finding.score), 4),
                    evidence_digest=digest,
                    first_seen=min(first_seen.get(value, finding.first_seen), finding.first_seen),
                ),
            )
    return wanted


def current_version(session: Session) -> int:
    """The newest publication's version; 0 before the first publication."""
    return int(session.exec(select(func.max(Publication.version))).one() or 0)


def sync(session: Session, config: Config, note: str = "") -> Publication | None:
    """Bring the blocklist in line with the published findings; a new Publication if anything changed.

    Runs in the caller's transaction and does not commit.
    """
    wanted = wanted_entries(session)
    rows = {(e.type, e.value): e for e in session.exec(select(BlocklistEntry))}
    active = {k: e for k, e in rows.items() if e.removed_at is None}
    to_add = [w for k, w in wanted.items() if k not in active]
    to_remove = [e for k, e in active.items() if k not in wanted]
    if not to_add and not to_remove:
        return None

    now = utcnow()
    publication = Publication(created_at=now, adds=len(to_add), removals=len(to_remove), note=note[:512])
    session.add(publication)
    session.flush()
    version = publication.version
    assert version is not None

    statuses = dict(session.exec(select(Finding.id, Finding.status)).all()) if to_remove else {}
    for entry in to_remove:
        status = statuses.get(entry.finding_id)
        if status == REVOKED:
            reason = _latest_reason(session, entry.finding_id, ("revoke",)) or "revoked"
        else:
            reason = f"finding {entry.finding_id} is no longer published (status: {status or 'missing'})"
        entry.removed_at = now
        entry.version_removed = version
        entry.removal_reason = reason
        session.add(entry)

    for w in to_add:
        entry = rows.get((w.type, w.value))
        if entry is None:
            entry = BlocklistEntry(entry_id=entry_id(w.type, w.value), type=w.type, value=w.value, first_seen=w.first_seen)
        entry.platform_id = w.platform_id
        entry.finding_id = w.finding_id
        entry.reason = w.reason
        entry.confidence = w.confidence
        entry.evidence_digest = w.evidence_digest
        entry.listed_at = now
        entry.version_added = version
        entry.removed_at = None
        entry.version_removed = None
        entry.removal_reason = ""
        session.add(entry)
    session.flush()
    log.info("blocklist published", extra={"version": version, "adds": len(to_add), "removals": len(to_remove)})
    return publication
