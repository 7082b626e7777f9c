"""Listing findings for the CLI (``scanner findings list``) and scripts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from scanner.store.models import Finding, PageAnalysis, Platform, Signal


def list_findings(
    session: Session, *, verdict: str | None = None, status: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Findings, highest score first, as JSON-ready dicts.

    Each has: id, platform, name, kind, verdict, score, status, sightings, first_seen, last_seen,
    licence_status, mirrors (platform keys grouped under it), signals ({kind: count} over the
    current documents) and evidence (how many captures those documents came from).
    """
    query = select(Finding, Platform).where(Finding.platform_id == Platform.id)
    if verdict:
        query = query.where(Finding.verdict == verdict)
    if status:
        query = query.where(Finding.status == status)
    query = query.order_by(col(Finding.score).desc(), col(Finding.id))
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
            }
        )
    return out


def _ids(session: Session, keys: list[str]) -> list[int]:
    if not keys:
        return []
    return [
        pid for pid in session.exec(select(Platform.id).where(col(Platform.key).in_(keys))) if pid is not None
    ]
