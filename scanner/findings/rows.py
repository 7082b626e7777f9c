"""Get-or-create of a platform's finding row, shared by storing documents and grouping mirrors."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scanner.store.models import Finding


def ensure_finding(session: Session, platform_id: int) -> Finding:
    # Cached per session: a crawl stores many documents of one platform in one transaction.
    cache = session.info.setdefault("pkscan_findings", {})
    finding = cache.get(platform_id)
    if finding is None or finding not in session:
        finding = session.exec(select(Finding).where(Finding.platform_id == platform_id)).first()
    if finding is None:
        finding = Finding(platform_id=platform_id, sightings=0)
        try:
            with session.begin_nested():
                session.add(finding)
        except IntegrityError:
            finding = session.exec(select(Finding).where(Finding.platform_id == platform_id)).one()
    cache[platform_id] = finding
    return finding
