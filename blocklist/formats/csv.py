"""`blocklist.csv`: one row per add or removal, header row first; `action` says which.

Cells a spreadsheet would run as a formula (an officer's reason starting with ``=``) are written
with a leading ``'`` (`scanner.csvsafe`).
"""

from __future__ import annotations

import io

from blocklist.view import FeedView, iso
from scanner import csvsafe

COLUMNS = (
    "action",
    "entry_id",
    "type",
    "value",
    "platform",
    "reason",
    "finding_id",
    "first_seen",
    "listed_at",
    "confidence",
    "evidence_digest",
    "version",
    "removed_at",
)


def write(view: FeedView) -> bytes:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for e in view.entries:
        writer.writerow(
            ("add", e.entry_id, e.type, e.value, e.platform, e.reason, e.finding_id, iso(e.first_seen),
             iso(e.listed_at), e.confidence, e.evidence_digest, e.version_added, "")
        )
    for e in view.removals:
        writer.writerow(
            ("remove", e.entry_id, e.type, e.value, e.platform, e.removal_reason, e.finding_id, iso(e.first_seen),
             iso(e.listed_at), e.confidence, e.evidence_digest, e.version_removed, iso(e.removed_at))
        )
    return buffer.getvalue().encode()
