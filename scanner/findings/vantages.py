"""What each vantage point saw of a platform: the finding page's comparison of vantage points.

A page fetched from two vantage points (direct and through a Pakistani exit, `scanner.net.vantage`)
is two current documents of the platform. When a finding's current documents come from more than
one vantage point, `vantage_views` says per vantage point how many pages it saw, how many of them
were judged ``flag``, and which signals (kind and value) were seen *only* from it, e.g. "USDT/PKR
and JazzCash seen only from vantage point pk": the geo-gating an officer must be able to explain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from scanner.findings import mirrors
from scanner.net.vantage import DIRECT_VANTAGE
from scanner.store.models import Finding, PageAnalysis, Platform, Signal

MAX_VALUES_PER_KIND = 8  # the page shows the gist; every signal is in the signal table below it


@dataclass
class VantageView:
    name: str  # the vantage point, "direct" for no proxy of ours
    pages: int = 0
    flagged_pages: int = 0
    signals: int = 0  # distinct (kind, value) seen from it
    # kind -> values seen from this vantage point and from no other (at most MAX_VALUES_PER_KIND each)
    only_here: dict[str, list[str]] = field(default_factory=dict)
    only_here_count: int = 0

    def summary(self) -> str:
        """One line, e.g. ``pkr_market: USDT/PKR; payment_rail: JazzCash, Easypaisa``."""
        return "; ".join(f"{kind}: {', '.join(values)}" for kind, values in self.only_here.items())


def vantage_views(session: Session, finding: Finding) -> list[VantageView]:
    """One view per vantage point of the finding's current documents (its platform and mirrors);
    empty when they all come from one vantage point (nothing to compare)."""
    platform = session.get(Platform, finding.platform_id)
    if platform is None:
        return []
    group = mirrors.group_ids(session, platform)
    current = col(PageAnalysis.superseded).is_(False)
    pages = session.exec(
        select(PageAnalysis.vantage, PageAnalysis.verdict, func.count())
        .where(col(PageAnalysis.platform_id).in_(group), current)
        .group_by(PageAnalysis.vantage, PageAnalysis.verdict)
    ).all()
    views: dict[str, VantageView] = {}
    for vantage, verdict, count in pages:
        view = views.setdefault(vantage or DIRECT_VANTAGE, VantageView(vantage or DIRECT_VANTAGE))
        view.pages += count
        view.flagged_pages += count if verdict == "flag" else 0
    if len(views) < 2:
        return []
    seen = session.exec(
        select(PageAnalysis.vantage, Signal.kind, Signal.value)
        .join(PageAnalysis, col(PageAnalysis.id) == Signal.page_analysis_id)
        .where(Signal.finding_id == finding.id, current)
        .distinct()
    ).all()
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for vantage, kind, value in seen:
        where[(kind, value)].add(vantage or DIRECT_VANTAGE)
    for (kind, value), names in sorted(where.items()):
        for name in names:
            if name in views:
                views[name].signals += 1
        if len(names) == 1 and (name := next(iter(names))) in views:
            view = views[name]
            view.only_here_count += 1
            values = view.only_here.setdefault(kind, [])
            if len(values) < MAX_VALUES_PER_KIND:
                values.append(value)
    # direct first, then the vantage points by name
    return sorted(views.values(), key=lambda v: (v.name != DIRECT_VANTAGE, v.name))
