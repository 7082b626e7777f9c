"""Read-only summaries of what the store holds, for the demo and scan tables."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scanner.pollers import exposure
from scanner.store.models import Capture, Finding, PageAnalysis, Platform, Signal


@dataclass
class PlatformSummary:
    platform: str
    verdict: str
    score: float
    status: str
    licence_status: str | None
    top_signals: list[str]
    evidence: int
    rails: dict[str, int] = field(default_factory=dict)  # newest P2P snapshot: rail -> PKR ads


def platform_summaries(engine: Engine, top: int = 3) -> list[PlatformSummary]:
    """One row per finding, flagged first then by score; mirrors are folded into their original.

    Signal counts are over the platform's current page analyses (not every past sighting)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Finding, Platform)
            .join(Platform, col(Platform.id) == col(Finding.platform_id))
            .order_by(col(Finding.verdict).desc(), col(Finding.score).desc(), col(Platform.key))
        ).all()
        evidence = dict(
            session.exec(select(Capture.platform_id, func.count()).group_by(col(Capture.platform_id))).all()  # type: ignore[call-overload]
        )
        summaries = []
        for finding, platform in rows:
            kinds = Counter(
                session.exec(
                    select(Signal.kind)
                    .join(PageAnalysis, col(PageAnalysis.id) == col(Signal.page_analysis_id))
                    .where(Signal.finding_id == finding.id, col(PageAnalysis.superseded).is_(False))
                ).all()
            )
            top_kinds = [f"{kind}×{count}" for kind, count in kinds.most_common(top)]
            summaries.append(
                PlatformSummary(
                    platform=platform.key,
                    verdict=finding.verdict,
                    score=finding.score,
                    status=finding.status,
                    licence_status=finding.licence_status,
                    top_signals=top_kinds,
                    evidence=evidence.get(platform.id, 0),
                    rails=_newest_rails(session, platform.id),
                )
            )
        return summaries


def _newest_rails(session: Session, platform_id: int | None) -> dict[str, int]:
    """PKR ads per Pakistani rail in the platform's newest P2P snapshots."""
    counts: Counter[str] = Counter()
    for point in exposure(session, platform_id, latest=True):
        if point.fiat == "PKR" and point.pakistani:
            counts[point.rail] += point.ads
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
