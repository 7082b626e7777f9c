"""Get-or-create of a platform's finding row, shared by storing documents and grouping mirrors, and the
row lookups both run for every batch they store."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scanner.store.models import Finding, Platform

# Built once (values bound per call): constructing a statement costs more than running it.
PLATFORM_BY_KEY = select(Platform).where(Platform.key == bindparam("key"))
_FINDING_OF = select(Finding).where(Finding.platform_id == bindparam("platform_id"))


def ensure_finding(session: Session, platform_id: int) -> Finding:
    # Cached per session: a crawl stores many documents of one platform in one transaction.
    cache = session.info.setdefault("pkscan_findings", {})
    finding = cache.get(platform_id)
    if finding is None or finding not in session:
        finding = session.execute(_FINDING_OF, {"platform_id": platform_id}).scalars().first()
    if finding is None:
        finding = Finding(platform_id=platform_id, sightings=0)
        try:
            with session.begin_nested():
                session.add(finding)
        except IntegrityError:
            finding = session.execute(_FINDING_OF, {"platform_id": platform_id}).scalars().one()
    cache[platform_id] = finding
    return finding
