"""`scanner evidence repair`: declare lost WARC records lost, in the chain, so `verify` can pass again.

Repair verifies the whole log, then appends one mark (`scanner.evidence.marks`) naming every capture
whose stored WARC bytes are missing or damaged. Nothing is deleted or rewritten: the captures keep
their rows and chain positions, and `verify` names them as marked from then on. Problems of the
chain itself (a row altered or deleted) are never marked: they mean the log was tampered with, and
only a restore from a backup answers that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from scanner.evidence import marks
from scanner.evidence.verify import CHAIN, WARC, Problem, VerifyReport, verify
from scanner.store.models import Capture


@dataclass
class RepairResult:
    report: VerifyReport  # before the repair
    marked: list[Problem] = field(default_factory=list)  # declared lost by this repair
    unrepairable: list[Problem] = field(default_factory=list)  # chain problems: left as they are
    mark: Capture | None = None  # the chain entry written (None on a dry run or with nothing to mark)


def repair(
    engine: Engine, data_dir: Path | str, reason: str, *, warc_max_bytes: int, dry_run: bool = False
) -> RepairResult:
    """Mark every capture with missing or damaged WARC records as lost (one chain entry for all)."""
    if not reason.strip():
        raise ValueError(
            "say why the records are lost (--reason): the mark keeps it for whoever verifies later"
        )
    report = verify(engine, data_dir)
    result = RepairResult(
        report,
        marked=[p for p in report.problems if p.kind == WARC],
        unrepairable=[p for p in report.problems if p.kind == CHAIN],
    )
    if result.marked and not dry_run:
        entries = [
            {"seq": p.seq, "chain_hash": p.chain_hash, "url": p.url, "warc_file": p.warc_file,
             "offset": p.offset, "problem": p.reason}
            for p in result.marked
        ]  # fmt: skip
        result.mark = marks.append_mark(engine, data_dir, warc_max_bytes, reason, entries)
    return result
