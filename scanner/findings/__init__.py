"""Findings: detection results stored per platform, shared by crawls and API pollers.

- `record_document(session, analysis, *, capture, run_id, document=None) -> PageAnalysis`
- `refresh_finding(session, platform_id, lexicons, register, run_id) -> Finding | None`
- `record_candidate(session, url, found_on_url, run_id) -> bool`, `mark_candidate_crawled(session, key)` (discovery)
- `list_findings(session, verdict=None, status=None) -> list[dict]` (``scanner findings list``)
- mirror grouping rule: `scanner.findings.mirrors`
"""

from scanner.findings.query import list_findings
from scanner.findings.store import (
    ensure_platform,
    mark_candidate_crawled,
    record_candidate,
    record_document,
    refresh_finding,
)

__all__ = [
    "ensure_platform",
    "list_findings",
    "mark_candidate_crawled",
    "record_candidate",
    "record_document",
    "refresh_finding",
]
