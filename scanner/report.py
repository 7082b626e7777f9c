"""The demo and scan summary: findings (scanner.findings.list_findings) with their PKR rails."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from scanner.findings.query import list_findings
from scanner.pollers.storage import exposure


@dataclass
class PlatformSummary:
    platform: str
    verdict: str
    score: float
    status: str
    licence_status: str | None
    top_signals: list[str]
    evidence: int
    rails: dict[str, int] = field(default_factory=dict)  # newest P2P snapshots: rail -> PKR ads


def platform_summaries(engine: Engine, top: int = 3) -> list[PlatformSummary]:
    """One row per finding, flagged first then by score; mirrors are folded into their original."""
    with Session(engine) as session:
        findings = list_findings(session)
        rails: dict[str, Counter[str]] = defaultdict(Counter)
        for point in exposure(session, latest=True):
            if point.fiat == "PKR" and point.pakistani:
                rails[point.platform][point.rail] += point.ads
    findings.sort(key=lambda f: (f["verdict"] != "flag", -f["score"], f["platform"]))
    return [
        PlatformSummary(
            platform=f["platform"],
            verdict=f["verdict"],
            score=f["score"],
            status=f["status"],
            licence_status=f["licence_status"],
            top_signals=[f"{kind}×{count}" for kind, count in Counter(f["signals"]).most_common(top)],
            evidence=f["evidence"],
            rails=dict(sorted(rails[f["platform"]].items(), key=lambda item: (-item[1], item[0]))),
        )
        for f in findings
    ]
