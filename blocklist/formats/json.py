"""`blocklist.json`: the whole feed (or the delta after `since`) as one JSON document."""

from __future__ import annotations

import json
from typing import Any

from blocklist.view import FeedEntry, FeedView, iso


def entry_json(entry: FeedEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "type": entry.type,
        "value": entry.value,
        "platform": entry.platform,
        "reason": entry.reason,
        "finding_id": entry.finding_id,
        "first_seen": iso(entry.first_seen),
        "listed_at": iso(entry.listed_at),
        "confidence": entry.confidence,
        "evidence_digest": entry.evidence_digest,
        "version_added": entry.version_added,
        "dispute": dispute_json(entry),
    }


def dispute_json(entry: FeedEntry) -> dict[str, Any]:
    """The entry's dispute status: none, open (a bank or the operator disputes it, officers have not
    answered yet), upheld (answered: it stays listed) or revoked (answered: removed)."""
    state: dict[str, Any] = {"status": entry.dispute}
    if entry.dispute != "none":
        state["changed_at"] = iso(entry.dispute_changed_at)
        state["version"] = entry.dispute_version
    return state


def removal_json(entry: FeedEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "type": entry.type,
        "value": entry.value,
        "platform": entry.platform,
        "finding_id": entry.finding_id,
        "listed_at": iso(entry.listed_at),
        "removed_at": iso(entry.removed_at),
        "version_added": entry.version_added,
        "version_removed": entry.version_removed,
        "reason": entry.removal_reason,
        "dispute": dispute_json(entry),
    }


def write(view: FeedView) -> bytes:
    document = {
        "version": view.version,
        "since": view.since,
        "generated_at": iso(view.generated_at),
        "publisher": view.publisher,
        "entries": [entry_json(e) for e in view.entries],
        "removals": [removal_json(e) for e in view.removals],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
