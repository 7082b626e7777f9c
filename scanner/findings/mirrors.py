"""Mirror grouping: the same site under another domain counts as one platform.

Rule. Platform B is a mirror of platform A when a page of B and a current page of A
  1. name the same brand (``og:site_name``, else ``application-name``, else the site part of the
     ``<title>``; case and spacing folded; pages without a brand never group), and
  2. show the same content: equal visible-text digests (host names masked), or one page's
     ``rel=canonical`` names the other platform.
The original is the platform a canonical link points at; without one, the platform seen first
(lower id). Grouping is transitive (a mirror of a mirror points at the root) and is never undone
automatically. Hosted platforms (``t.me/xyz``, app-store apps) are never grouped: one host serves
many operators there.

Grouping B under A sets ``B.mirror_of_id``, adds a ``PlatformDomain(kind="mirror")`` row for B's key
on A, and moves B's signals to A's finding. B's own finding, if it had one, is removed when no
officer has decided on it yet (its documents now count towards A); with decisions it is kept and
flagged ``needs_review`` with a note pointing at A's finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from scanner.findings.rows import ensure_finding
from scanner.store.models import (
    Decision,
    Finding,
    FindingEvent,
    PageAnalysis,
    Platform,
    PlatformDomain,
    Signal,
)

if TYPE_CHECKING:
    from scanner.detection.identity import PageIdentity

MAX_CHAIN = 16


def root_of(session: Session, platform: Platform) -> Platform:
    seen = {platform.id}
    while platform.mirror_of_id is not None and len(seen) < MAX_CHAIN:
        parent = session.get(Platform, platform.mirror_of_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        platform = parent
    return platform


def group_ids(session: Session, root: Platform) -> list[int]:
    """The root and every platform grouped under it."""
    ids = [root.id or 0]
    frontier = [root.id]
    while frontier and len(ids) < 1000:
        children = list(session.exec(select(Platform.id).where(col(Platform.mirror_of_id).in_(frontier))))
        children = [c for c in children if c not in ids]
        ids.extend(children)
        frontier = children
    return ids


# Built once (values bound per call): constructing these statements costs more than running them,
# and they run for every stored page.
_CURRENT = col(PageAnalysis.superseded).is_(False)
_SAME_BRAND = PageAnalysis.brand == bindparam("brand")
_OTHER = PageAnalysis.platform_id != bindparam("platform_id")
_PLATFORM_BY_KEY = select(Platform).where(Platform.key == bindparam("key"))
_HAS_BRAND = (
    select(PageAnalysis.id)
    .where(PageAnalysis.platform_id == bindparam("target_id"), _SAME_BRAND, _CURRENT)
    .limit(1)
)
_NAMES_US_CANONICAL = (
    select(PageAnalysis.platform_id)
    .where(PageAnalysis.canonical_key == bindparam("key"), _SAME_BRAND, _OTHER, _CURRENT)
    .limit(1)
)
_SAME_TEXT = (
    select(PageAnalysis.platform_id)
    .where(PageAnalysis.text_digest == bindparam("text_digest"), _SAME_BRAND, _OTHER, _CURRENT)
    .order_by(col(PageAnalysis.platform_id))
    .limit(1)
)


def _matching_platform(
    session: Session, platform: Platform, identity: PageIdentity
) -> tuple[Platform, bool] | None:
    """Another platform sharing brand and content with this page: (platform, its page names us canonical)."""
    if identity.canonical_key:
        target = session.execute(_PLATFORM_BY_KEY, {"key": identity.canonical_key}).scalars().first()
        if target is not None and target.kind != "hosted":
            has_brand = session.execute(
                _HAS_BRAND, {"target_id": target.id, "brand": identity.brand}
            ).scalars().first()
            if has_brand is not None:
                return target, False
    mine = {"brand": identity.brand, "platform_id": platform.id}
    row = session.execute(_NAMES_US_CANONICAL, {**mine, "key": platform.key}).scalars().first()
    if row is not None:
        return session.get(Platform, row), True  # type: ignore[return-value]
    if identity.text_digest:
        row = session.execute(_SAME_TEXT, {**mine, "text_digest": identity.text_digest}).scalars().first()
        if row is not None:
            return session.get(Platform, row), False  # type: ignore[return-value]
    return None


def group(session: Session, platform: Platform, identity: PageIdentity) -> Platform:
    """Group ``platform`` with a platform it mirrors (or that mirrors it), if any; returns the root."""
    if platform.mirror_of_id is not None or platform.kind == "hosted" or not identity.brand:
        return root_of(session, platform)
    match = _matching_platform(session, platform, identity)
    if match is None:
        return platform
    other, other_points_at_us = match
    other_root = root_of(session, other)
    if other_root.id == platform.id or other_root.kind == "hosted":
        return platform
    if other_points_at_us or (not identity.canonical_key and (platform.id or 0) < (other_root.id or 0)):
        # We are the original: the other platform (and its group) becomes our mirror.
        link(session, mirror=other_root, original=platform)
        return platform
    link(session, mirror=platform, original=other_root)
    return other_root


def link(session: Session, *, mirror: Platform, original: Platform) -> None:
    mirror.mirror_of_id = original.id
    session.add(mirror)
    known = session.exec(
        select(PlatformDomain).where(
            PlatformDomain.platform_id == original.id, PlatformDomain.value == mirror.key
        )
    ).first()
    if known is None:
        session.add(PlatformDomain(platform_id=original.id or 0, value=mirror.key, kind="mirror"))
    elif known.kind != "mirror":
        known.kind = "mirror"
        session.add(known)
    session.flush()
    _merge_findings(session, mirror, original)


def _merge_findings(session: Session, mirror: Platform, original: Platform) -> None:
    old = session.exec(select(Finding).where(Finding.platform_id == mirror.id)).first()
    if old is None:
        return
    target = ensure_finding(session, original.id or 0)
    session.flush()
    session.exec(update(Signal).where(col(Signal.finding_id) == old.id).values(finding_id=target.id))  # type: ignore[call-overload]
    decided = session.exec(select(Decision.id).where(Decision.finding_id == old.id).limit(1)).first()
    if decided is None:
        session.exec(delete(FindingEvent).where(col(FindingEvent.finding_id) == old.id))  # type: ignore[call-overload]
        session.delete(old)
    else:
        old.needs_review = True
        old.review_note = (
            f"grouped as a mirror of {original.key}: its evidence now counts towards finding {target.id}"
        )
        session.add(old)
    session.flush()
