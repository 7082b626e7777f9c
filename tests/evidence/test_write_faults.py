"""A disk that refuses evidence writes (full, file size limit) never corrupts the evidence log.

The fault is real: a child process runs under ``RLIMIT_FSIZE``, so the kernel accepts part of a WARC
write and then fails the rest with EFBIG, exactly as a filling disk does with ENOSPC (a short write,
then an error). Raising the limit again is "freeing the space".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, col, select

from scanner.evidence import verify
from scanner.store.models import Capture
from tests.evidence.test_evidence_log import warc_files, warcio

ROOT = Path(__file__).parents[2]

# Records pages of ~100 kB (random, so gzip cannot shrink them) until the file size limit refuses one,
# tries twice more while it is still refused, lifts the limit and records three more.
FULL_DISK_SCRIPT = """
import json, os, resource, signal, sys
from scanner.evidence import EvidenceRecorder, EvidenceWriteError
from scanner.store.db import make_engine
from tests.evidence.conftest import record_page

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us instead of failing write()
db_url, data_dir, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
recorder = EvidenceRecorder(make_engine(db_url), data_dir, 10**9)
out = {"recorded": [], "refused": [], "errors": [], "after": []}
n = 0
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
while len(out["refused"]) < 3:
    try:
        record_page(recorder, n, body=os.urandom(100_000))
        (out["after"] if out["refused"] else out["recorded"]).append(n)
    except EvidenceWriteError as exc:
        out["refused"].append(n)
        out["errors"].append({"message": str(exc), "errno": exc.errno, "file": exc.warc_file})
    n += 1
    if len(out["recorded"]) > 100:
        raise SystemExit("the file size limit never refused a write")
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
for _ in range(3):
    record_page(recorder, n, body=os.urandom(100_000))
    out["after"].append(n)
    n += 1
recorder.close()
print(json.dumps(out))
"""


def test_full_disk_records_nothing_partial_and_the_log_verifies_after_space_is_freed(engine, data_dir):
    url = engine.url.render_as_string(hide_password=False)
    limit = 1_500_000  # above a fresh SQLite store, so only the WARC file hits it
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, url, str(data_dir), str(limit)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])

    # Every refused write raised the typed error, naming the file and why.
    assert len(out["refused"]) == 3 and len(out["recorded"]) >= 5
    for error in out["errors"]:
        assert error["errno"] == 27 and "EFBIG" in error["message"]  # EFBIG: File too large
        assert error["file"].startswith("warc/pkscan-") and error["file"] in error["message"]
        assert "evidence not recorded" in error["message"] and "truncated back to" in error["message"]

    # Only the pages recorded before and after the fault are in the chain, gapless, in order.
    with Session(engine) as session:
        captures = list(session.exec(select(Capture).order_by(col(Capture.seq))))
    recorded_pages = [int(c.url.split("/p2p/")[1].split("?")[0]) for c in captures]
    assert recorded_pages == out["recorded"] + out["after"]
    assert [c.seq for c in captures] == list(range(1, len(captures) + 1))
    # The pages after the fault went on in the same file, right behind the last good record.
    same_file = [c for c in captures if c.warc_file == captures[0].warc_file]
    assert len(same_file) == len(captures)
    assert all(b.warc_offset == a.warc_offset + a.warc_length for a, b in zip(same_file, same_file[1:], strict=False))

    report = verify(engine, data_dir)
    assert report.ok, report.problem
    assert report.checked == len(captures)
    check = warcio("check", *warc_files(data_dir))
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_failed_flush_to_disk_records_nothing_and_the_next_record_starts_a_new_file(engine, data_dir, monkeypatch):
    """fdatasync fails (EIO: the disk lost the data) once: the records it covered are not recorded,
    the caller is told, and the evidence log still verifies with every record that was recorded."""
    import errno
    import os

    from scanner.evidence import EvidenceRecorder, EvidenceWriteError
    from tests.evidence.conftest import record_page

    recorder = EvidenceRecorder(engine, data_dir, 10**9)
    before = record_page(recorder, 1)
    real_sync = getattr(os, "fdatasync", os.fsync)

    def lost_write(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", lost_write)
    try:
        record_page(recorder, 2)
        raise AssertionError("a record whose flush failed was reported as recorded")
    except EvidenceWriteError as exc:
        assert "flushing warc/pkscan-" in str(exc) and "EIO" in str(exc) and exc.errno == errno.EIO
    monkeypatch.setattr(os, "fdatasync", real_sync)
    after = record_page(recorder, 3)
    recorder.close()

    with Session(engine) as session:
        captures = list(session.exec(select(Capture).order_by(col(Capture.seq))))
    assert [c.id for c in captures] == [before.id, after.id]
    assert after.warc_file != before.warc_file  # the file whose durability is unknown is left behind
    report = verify(engine, data_dir)
    assert report.ok and report.checked == 2, report.problem
