"""The discovery frontier: candidates in the order discovery crawls take them.

Best first: not crawled yet and tried least, named by more sources, with a Pakistan word in its name
(``config/discovery_words.yaml``), seen more often, found earlier. The ``discovery`` spider takes the
top ``discovery.frontier`` of them each run (its per-domain and per-run page budgets apply) and counts
the attempt; a candidate no crawl could fetch in `MAX_ATTEMPTS` runs (a name with no site) leaves the
frontier. Once crawled a candidate links to its platform's finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from scanner.store.models import Candidate, Finding, Platform

MAX_ATTEMPTS = 3


def priority(candidate: Candidate, pakistan_words: Sequence[str] = ()) -> tuple[Any, ...]:
    """Sort key of a candidate: smaller is crawled sooner."""
    label = candidate.key.split("/")[-1].split(".")[0]
    pakistan = candidate.key.endswith(".pk") or any(word in label for word in pakistan_words)
    return (
        candidate.attempts or 0, -len(candidate.sources or [candidate.source]), not pakistan,
        -(candidate.seen_count or 0), candidate.found_at, candidate.id or 0,
    )  # fmt: skip


def take_frontier(session: Session, limit: int, pakistan_words: Sequence[str] = ()) -> list[Candidate]:
    """The top ``limit`` uncrawled candidates, each counted as attempted (the caller commits)."""
    if limit <= 0:
        return []
    query = select(Candidate).where(col(Candidate.crawled).is_(False), col(Candidate.attempts) < MAX_ATTEMPTS)
    chosen = sorted(session.exec(query), key=lambda c: priority(c, pakistan_words))[:limit]
    for candidate in chosen:
        candidate.attempts = (candidate.attempts or 0) + 1
        session.add(candidate)
    return chosen


def frontier_rows(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Every candidate with its counts and, once crawled, its finding (``scanner candidates``)."""
    query = (
        select(Candidate, Finding)
        .join(Platform, col(Platform.key) == col(Candidate.key), isouter=True)
        .join(
            Finding,
            col(Finding.platform_id) == func.coalesce(Platform.mirror_of_id, Platform.id),
            isouter=True,
        )
        .order_by(
            col(Candidate.crawled),
            col(Candidate.seen_count).desc(),
            col(Candidate.found_at),
            col(Candidate.id),
        )
        .limit(limit)
    )
    rows = []
    for candidate, finding in session.exec(query):
        rows.append({
            "key": candidate.key, "url": candidate.url, "source": candidate.source, "reason": candidate.reason,
            "found_on_url": candidate.found_on_url, "capture_id": candidate.capture_id,
            "found_at": candidate.found_at, "last_seen": candidate.last_seen, "seen_count": candidate.seen_count,
            "sources": candidate.sources or [candidate.source], "crawled": candidate.crawled,
            "attempts": candidate.attempts,
            "finding_id": finding.id if finding else None, "verdict": finding.verdict if finding else None,
        })  # fmt: skip
    rows.sort(
        key=lambda r: (
            r["crawled"],
            r["attempts"] >= MAX_ATTEMPTS,
            -len(r["sources"]),
            -(r["seen_count"] or 0),
        )
    )
    return rows


def discovered_by(session: Session, keys: list[str]) -> dict[str, dict[str, Any]]:
    """How each platform (by key) was discovered: the source, the response that named it, why."""
    if not keys:
        return {}
    rows = session.exec(select(Candidate).where(col(Candidate.key).in_(keys)))
    return {
        c.key: {
            "source": c.source,
            "found_on_url": c.found_on_url,
            "reason": c.reason,
            "capture_id": c.capture_id,
            "found_at": c.found_at.isoformat(),
            "sources": c.sources or [c.source],
            "seen_count": c.seen_count,
        }  # fmt: skip
        for c in rows
    }
