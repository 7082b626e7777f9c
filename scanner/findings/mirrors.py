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

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, update
from sqlmodel import Session, col, select

from scanner.findings.rows import PLATFORM_BY_KEY, ensure_finding
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
    session: Session, platform: Platform, identity: PageIdentity, index: MirrorIndex | None = None
) -> tuple[Platform, bool] | None:
    """Another platform sharing brand and content with this page: (platform, its page names us canonical)."""
    if identity.canonical_key:
        target = session.execute(PLATFORM_BY_KEY, {"key": identity.canonical_key}).scalars().first()
        if target is not None and target.kind != "hosted":
            has_brand = (
                session.execute(_HAS_BRAND, {"target_id": target.id, "brand": identity.brand})
                .scalars()
                .first()
            )
            if has_brand is not None:
                return target, False
    mine = {"brand": identity.brand, "platform_id": platform.id}
    row = index.names_us_canonical(platform, identity.brand) if index is not None else _UNKNOWN
    if row is _UNKNOWN:
        row = session.execute(_NAMES_US_CANONICAL, {**mine, "key": platform.key}).scalars().first()
    if row is not None:
        return session.get(Platform, row), True  # type: ignore[return-value]
    if identity.text_digest:
        row = index.same_text(platform, identity) if index is not None else _UNKNOWN
        if row is _UNKNOWN:
            row = session.execute(_SAME_TEXT, {**mine, "text_digest": identity.text_digest}).scalars().first()
        if row is not None:
            return session.get(Platform, row), False  # type: ignore[return-value]
    return None


_UNKNOWN: Any = object()  # a MirrorIndex cannot tell: the query answers
_BATCH_BRANDS = col(PageAnalysis.brand).in_(bindparam("brands", expanding=True))
# How many current analyses each platform has per (text digest, brand), per (canonical key, brand).
_TEXTS = (
    select(PageAnalysis.text_digest, PageAnalysis.brand, PageAnalysis.platform_id, func.count())
    .where(col(PageAnalysis.text_digest).in_(bindparam("digests", expanding=True)), _BATCH_BRANDS, _CURRENT)
    .group_by(PageAnalysis.text_digest, PageAnalysis.brand, PageAnalysis.platform_id)
)
_CANONICALS = (
    select(
        PageAnalysis.canonical_key, PageAnalysis.brand, PageAnalysis.platform_id, func.count(),
        func.min(PageAnalysis.id),
    )
    .where(col(PageAnalysis.canonical_key).in_(bindparam("keys", expanding=True)), _BATCH_BRANDS, _CURRENT)
    .group_by(PageAnalysis.canonical_key, PageAnalysis.brand, PageAnalysis.platform_id)
)  # fmt: skip


class MirrorIndex:
    """The answers of `_NAMES_US_CANONICAL` and `_SAME_TEXT` for one batch of documents stored in one
    transaction, read with two grouped queries instead of two queries a page.

    It holds, per (content, brand, platform), how many current analyses there are: for the text
    digests and brands of the batch's pages and for canonical links naming the batch's platforms
    (``text_digests``, ``brands``, ``keys``: every page of the batch falls within them). It is read on
    first use, and the batch keeps it true while it writes (`added`, `superseded`): a page stored
    earlier in the same batch counts as the query would have seen it. Only this transaction's writes
    are followed: another writer's rows committed meanwhile are seen from the next batch on (the
    crawl's detection worker is the only writer of analyses while it runs).
    """

    def __init__(self, text_digests: set[str], brands: set[str], keys: set[str]):
        self.text_digests, self.brands, self.keys = text_digests, brands, keys
        self.loaded = False
        # (text digest, brand) -> platform id -> how many current analyses
        self.texts: dict[tuple[str, str], dict[int, int]] = {}
        # (canonical key, brand) -> platform id -> [how many current analyses, lowest id or None: unknown]
        self.canonicals: dict[tuple[str, str], dict[int, list[Any]]] = {}

    def load(self, session: Session) -> None:
        if self.loaded:
            return
        self.loaded = True
        if not self.brands:
            return
        known = {"brands": sorted(self.brands)}
        if self.text_digests:
            rows = session.execute(_TEXTS, {**known, "digests": sorted(self.text_digests)})
            for digest, brand, platform_id, count in rows:
                self.texts.setdefault((digest, brand), {})[platform_id] = count
        if self.keys:
            rows = session.execute(_CANONICALS, {**known, "keys": sorted(self.keys)})
            for key, brand, platform_id, count, lowest in rows:
                self.canonicals.setdefault((key, brand), {})[platform_id] = [count, lowest]

    def added(
        self, row_id: int, platform_id: int, brand: str, text_digest: str, canonical_key: str | None
    ) -> None:
        """An analysis stored by this transaction (after `load`, or before it: then the query saw it)."""
        if not self.loaded or brand not in self.brands:
            return
        if text_digest in self.text_digests:
            counts = self.texts.setdefault((text_digest, brand), {})
            counts[platform_id] = counts.get(platform_id, 0) + 1
        if canonical_key in self.keys:
            entry = self.canonicals.setdefault((canonical_key, brand), {}).setdefault(
                platform_id, [0, row_id]
            )
            entry[0] += 1
            if entry[0] == 1:  # the only one (ids grow: a later row is never the lowest of several)
                entry[1] = row_id

    def superseded(
        self, row_id: int, platform_id: int, brand: str, text_digest: str, canonical_key: str | None
    ) -> None:
        """A current analysis this transaction marked superseded."""
        if not self.loaded or brand not in self.brands:
            return
        if text_digest in self.text_digests:
            self.texts[(text_digest, brand)][platform_id] -= 1
        if canonical_key in self.keys:
            entry = self.canonicals[(canonical_key, brand)][platform_id]
            entry[0] -= 1
            if entry[1] == row_id:
                entry[1] = None  # the next lowest is not known

    def names_us_canonical(self, platform: Platform, brand: str) -> Any:
        """A platform with a current page of ``brand`` whose canonical link names ``platform`` (the one
        with the lowest such page, as the query finds it), None, or `_UNKNOWN`."""
        if platform.key not in self.keys or brand not in self.brands:
            return _UNKNOWN
        others = {
            other: entry for other, entry in self.canonicals.get((platform.key, brand), {}).items()
            if other != platform.id and entry[0] > 0
        }  # fmt: skip
        if not others:
            return None
        if len(others) == 1:
            return next(iter(others))
        if any(entry[1] is None for entry in others.values()):
            return _UNKNOWN
        return min(others, key=lambda other: others[other][1])

    def same_text(self, platform: Platform, identity: PageIdentity) -> Any:
        """The lowest other platform with a current page of the same brand and text digest, or None."""
        if identity.text_digest not in self.text_digests or identity.brand not in self.brands:
            return _UNKNOWN
        counts = self.texts.get((identity.text_digest, identity.brand), {})
        others = [other for other, count in counts.items() if count > 0 and other != platform.id]
        return min(others) if others else None


def group(
    session: Session, platform: Platform, identity: PageIdentity, index: MirrorIndex | None = None
) -> Platform:
    """Group ``platform`` with a platform it mirrors (or that mirrors it), if any; returns the root.
    ``index`` answers for a batch of pages what would otherwise be queried a page at a time."""
    if platform.mirror_of_id is not None or platform.kind == "hosted" or not identity.brand:
        return root_of(session, platform)
    if index is not None:
        index.load(session)
    match = _matching_platform(session, platform, identity, index)
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
