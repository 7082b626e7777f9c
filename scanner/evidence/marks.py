"""Marks: entries of the evidence chain that declare captures' WARC records lost.

History is never rewritten: a capture whose stored records are gone or damaged (a disk failure, a
file lost in a restore, the partial record an old writer left behind after ENOSPC) keeps its row,
and a *mark* is appended at the end of the same hash chain saying which captures are lost and why.
`verify` then reports those captures as marked instead of failing on them, and names them.

A mark is itself evidence: a WARC ``metadata`` record (JSON, ``application/json``) written like any
capture and chained as a `Capture` row with ``method = "MARK"`` and ``url = MARK_URI``, so removing
or editing a mark breaks the chain like removing a capture would. Each marked capture is named by
its ``seq`` *and* ``chain_hash``, so a mark cannot be reused for another row. Only WARC-level damage
can be marked; a chain that was altered (a row changed or deleted) cannot be excused this way.

Payload::

    {"format": "pkscan-evidence-mark/1", "reason": "disk full on 2026-11-28, records lost",
     "marked_at": "2026-11-30T07:00:00.000000Z",
     "marked": [{"seq": 17, "chain_hash": "...", "url": "...", "warc_file": "...", "offset": 1414390,
                 "problem": "stored WARC bytes do not match the recorded SHA-256"}]}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from warcio.archiveiterator import ArchiveIterator

from scanner.evidence import chain
from scanner.evidence.warc import WarcWriter
from scanner.store.models import Capture, utcnow

MARK_METHOD = "MARK"
MARK_URI = "urn:pkscan:evidence-mark"
MARK_CONTENT_TYPE = "application/json"
FORMAT = "pkscan-evidence-mark/1"


@dataclass(frozen=True)
class MarkedEntry:
    """One capture a mark declares lost."""

    seq: int
    chain_hash: str
    problem: str  # what verify found when the mark was made


@dataclass(frozen=True)
class Mark:
    reason: str
    marked: tuple[MarkedEntry, ...]


def is_mark(capture: Capture) -> bool:
    return capture.method == MARK_METHOD and capture.url == MARK_URI


def parse(payload: bytes) -> Mark:
    """The mark a metadata record's payload states; ValueError if it is not one."""
    try:
        data = json.loads(payload)
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT}")
        entries = tuple(
            MarkedEntry(int(item["seq"]), str(item["chain_hash"]), str(item.get("problem", "")))
            for item in data["marked"]
        )
        return Mark(str(data.get("reason", "")), entries)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a pkscan evidence mark ({exc})") from None


def append_mark(
    engine: Engine, data_dir: Path | str, warc_max_bytes: int, reason: str, marked: list[dict[str, Any]]
) -> Capture:
    """Write a mark for ``marked`` (dicts with seq, chain_hash, url, warc_file, offset, problem) and chain it."""
    if not reason.strip():
        raise ValueError("a mark needs a reason (why the records are lost)")
    now = utcnow()
    payload = {
        "format": FORMAT,
        "reason": reason.strip(),
        "marked_at": chain.format_time(now),
        "marked": marked,
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    with WarcWriter(data_dir, warc_max_bytes, info={"pkscan-purpose": "evidence marks"}) as writer:
        written = writer.write_metadata(MARK_URI, body, MARK_CONTENT_TYPE, now)
        writer.sync()  # durable before the chain entry points at it, as for captures
    row = {
        "run_id": None,
        "method": MARK_METHOD,
        "url": MARK_URI,
        "final_url": MARK_URI,
        "status": 0,
        "content_type": MARK_CONTENT_TYPE,
        "fetched_at": now,
        "remote_ip": None,
        "warc_file": written.warc_file,
        "warc_offset": written.offset,
        "warc_length": written.length,
        "record_id": written.record_id,
        "request_record_id": None,
        "body_sha256": written.body_sha256,
        "body_length": len(body),
        "warc_sha256": written.warc_sha256,
    }
    return chain.append_many(engine, [row])[0]


@dataclass(frozen=True)
class LostRecord:
    """A capture a mark declared lost: which chain entry said so, and why."""

    seq: int
    mark_seq: int
    reason: str
    problem: str


def lost_records(session: Session, data_dir: Path | str) -> dict[str, LostRecord]:
    """Captures declared lost by the marks in the chain, by their ``chain_hash``.

    For consumers that must skip lost records (evidence bundles); `verify` checks marks fully. A mark
    whose stored bytes no longer match its chained SHA-256 declares nothing.
    """
    lost: dict[str, LostRecord] = {}
    rows = session.exec(
        select(Capture).where(Capture.method == MARK_METHOD, Capture.url == MARK_URI).order_by(col(Capture.seq))
    )
    for row in rows:
        try:
            with open(Path(data_dir) / row.warc_file, "rb") as handle:
                handle.seek(row.warc_offset)
                data = handle.read(row.warc_length)
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != row.warc_sha256:
            continue
        for record in ArchiveIterator(BytesIO(data)):
            if record.rec_type != "metadata":
                continue
            try:
                mark = parse(record.content_stream().read())
            except ValueError:
                break
            for entry in mark.marked:
                lost.setdefault(entry.chain_hash, LostRecord(entry.seq, row.seq, mark.reason, entry.problem))
    return lost
