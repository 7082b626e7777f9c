"""Evidence: every HTTP exchange written to WARC, indexed by hash-chained `Capture` rows.

Public API (used by crawls, API pollers and evidence bundles):
- `EvidenceRecorder(engine, data_dir, warc_max_bytes, run_id=None).record(...) -> Capture`, `.close()`;
  raises `EvidenceWriteError` (nothing recorded) when the disk refuses a record
- `verify(engine, data_dir) -> VerifyReport` (``.ok``, ``.checked``, ``.problems``: every bad record,
  ``.marked``: records a repair declared lost)
- `scanner.evidence.repair.repair(engine, data_dir, reason, warc_max_bytes=...)`: mark lost records, in the chain
- `read_exchange(data_dir, capture) -> Exchange`, `copy_records(captures, out_path, data_dir)`
- `EvidenceRecorder.record_render(...)`: a page rendered in Chromium (DOM + PNG screenshot) as a
  RENDER capture; `read_screenshot(data_dir, capture) -> bytes | None`
"""

from scanner.evidence.recorder import EvidenceRecorder
from scanner.evidence.verify import (
    CopiedRecord,
    Exchange,
    MarkedProblem,
    Problem,
    VerifyReport,
    copy_records,
    read_exchange,
    read_screenshot,
    verify,
)
from scanner.evidence.warc import EvidenceWriteError

__all__ = [
    "CopiedRecord",
    "EvidenceRecorder",
    "EvidenceWriteError",
    "Exchange",
    "MarkedProblem",
    "Problem",
    "VerifyReport",
    "copy_records",
    "read_exchange",
    "read_screenshot",
    "verify",
]
