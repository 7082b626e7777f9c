"""WARC records and the hash-chained capture log: written, readable by warcio, verifiable, tamper-evident."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from scanner.evidence import EvidenceRecorder, copy_records, read_exchange, verify
from scanner.evidence.chain import GENESIS
from scanner.store.db import make_engine
from scanner.store.models import Capture, utcnow
from tests.evidence.conftest import record_page

WARCIO = str(Path(sys.executable).with_name("warcio"))


def warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WARCIO, *args], capture_output=True, text=True, timeout=60)


def warc_files(data_dir: Path) -> list[str]:
    return sorted(str(p) for p in (data_dir / "warc").glob("*.warc.gz"))


def test_captures_are_chained_and_pass_warcio_check_and_index(recorded, engine, data_dir):
    captures = recorded(5)
    assert [c.seq for c in captures] == [1, 2, 3, 4, 5]
    assert captures[0].prev_chain_hash == GENESIS
    assert all(b.prev_chain_hash == a.chain_hash for a, b in zip(captures, captures[1:], strict=False))

    check = warcio("check", "-v", *warc_files(data_dir))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 11  # warcinfo + 5 x (response, request)

    index = warcio("index", "-f", "warc-type,warc-target-uri,offset", *warc_files(data_dir))
    rows = [json.loads(line) for line in index.stdout.splitlines()]
    responses = [r for r in rows if r["warc-type"] == "response"]
    assert [int(r["offset"]) for r in responses] == [c.warc_offset for c in captures]
    assert [r["warc-target-uri"] for r in responses] == [c.url for c in captures]

    report = verify(engine, data_dir)
    assert report.ok and report.checked == 5 and report.tip == captures[-1].chain_hash


def test_records_carry_the_exchange(recorded, data_dir):
    capture = recorded(1)[0]
    exchange = read_exchange(data_dir, capture)
    assert exchange.status == 200 and exchange.reason == "OK"
    assert ("Content-Type", "text/html; charset=utf-8") in exchange.headers
    assert "JazzCash" in exchange.body.decode()
    assert exchange.request_line == "GET /p2p/0?fiat=PKR HTTP/1.1"
    assert ("Host", "exchange.test") in exchange.request_headers
    headers = exchange.warc_headers
    assert headers["WARC-IP-Address"] == "127.0.0.1"
    assert headers["WARC-Payload-Digest"].startswith("sha256:")
    assert headers["WARC-Block-Digest"].startswith("sha256:")
    assert headers["WARC-Date"].startswith(capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%S."))
    index = warcio("index", "-f", "warc-type,warc-concurrent-to", *warc_files(data_dir))
    request = [json.loads(line) for line in index.stdout.splitlines() if '"request"' in line][0]
    assert request["warc-concurrent-to"] == capture.record_id


def test_headers_are_kept_as_received(engine, data_dir):
    with EvidenceRecorder(engine, data_dir, 10**6) as recorder:
        capture = recorder.record(
            method="GET", url="http://x.test/", request_headers=[], request_body=None, final_url="http://x.test/",
            status=200, reason=None,
            response_headers=[("Transfer-Encoding", "chunked"), ("X-Caf\u00e9", "cr\u00e8me"), ("Content-Encoding", "gzip")],
            body=b"\x1f\x8b raw gzip bytes", fetched_at=utcnow(), remote_ip=None,
        )  # fmt: skip
    exchange = read_exchange(data_dir, capture)
    # latin-1 header bytes survive unchanged; the already removed chunking is not claimed any more
    assert ("X-Caf\u00e9", "cr\u00e8me") in exchange.headers
    assert ("X-Pkscan-Original-Transfer-Encoding", "chunked") in exchange.headers
    assert exchange.body == b"\x1f\x8b raw gzip bytes"
    assert "WARC-IP-Address" not in exchange.warc_headers
    assert warcio("check", *warc_files(data_dir)).returncode == 0


def test_files_rotate_by_size_and_each_is_valid(recorded, engine, data_dir):
    captures = recorded(12, warc_max_bytes=2048)
    files = warc_files(data_dir)
    assert len(files) > 2
    assert len({c.warc_file for c in captures}) == len(files)
    assert all(Path(f).stat().st_size < 2048 + 2000 for f in files)
    assert warcio("check", *files).returncode == 0
    assert verify(engine, data_dir).ok


@pytest.mark.parametrize("where", ["gzip header", "middle", "gzip trailer"])
def test_one_altered_warc_byte_is_found(recorded, engine, data_dir, where):
    captures = recorded(4)
    target = captures[2]
    position = {
        "gzip header": target.warc_offset + 4,  # the mtime field: decompresses identically
        "middle": target.warc_offset + target.warc_length // 3,
        "gzip trailer": target.warc_offset + target.warc_length - 1,
    }[where]
    path = data_dir / target.warc_file
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))

    report = verify(engine, data_dir)
    assert not report.ok and report.checked == 4 and len(report.problems) == 1
    assert report.problem.seq == 3 and report.problem.url == target.url
    assert report.problem.warc_file == target.warc_file and report.problem.offset == target.warc_offset
    assert "SHA-256" in report.problem.reason


def test_altered_capture_row_is_found(recorded, engine, data_dir):
    recorded(4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE capture SET url = 'http://innocent.test/' WHERE seq = 2"))
    report = verify(engine, data_dir)
    assert report.problem is not None and report.problem.seq == 2
    assert "capture row altered" in report.problem.reason


def test_rehashed_row_is_still_found_through_its_warc_records(recorded, engine, data_dir):
    """Someone who edits a row and recomputes the whole chain still cannot match the WARC bytes."""
    from scanner.evidence.chain import chain_hash

    recorded(3)
    with Session(engine) as session:
        rows = list(session.exec(select(Capture).order_by(Capture.seq)))
        rows[1].body_sha256 = "0" * 64
        prev = GENESIS
        for row in rows:
            row.prev_chain_hash = prev
            row.chain_hash = prev = chain_hash(prev, row)
            session.add(row)
        session.commit()
    report = verify(engine, data_dir)
    assert report.problem is not None and report.problem.seq == 2 and "body SHA-256" in report.problem.reason


def test_deleted_capture_row_breaks_the_chain(recorded, engine, data_dir):
    recorded(4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM capture WHERE seq = 2"))
    report = verify(engine, data_dir)
    assert (
        report.problem is not None and report.problem.seq == 3 and "expected seq 2" in report.problem.reason
    )


def test_missing_warc_file_is_named(recorded, engine, data_dir):
    capture = recorded(1)[0]
    (data_dir / capture.warc_file).unlink()
    report = verify(engine, data_dir)
    assert report.problem is not None and "unreadable" in report.problem.reason


def test_copy_records_makes_a_valid_warc_with_identical_bytes(recorded, engine, data_dir, tmp_path):
    captures = recorded(5)
    out = tmp_path / "bundle.warc.gz"
    copied = copy_records([captures[3], captures[1], captures[3]], out, data_dir)
    assert [c.seq for c in copied] == [2, 4]
    assert warcio("check", str(out)).returncode == 0
    blob = out.read_bytes()
    for item, capture in zip(copied, [captures[1], captures[3]], strict=True):
        source = (data_dir / capture.warc_file).read_bytes()[
            capture.warc_offset : capture.warc_offset + capture.warc_length
        ]
        assert blob[item.offset : item.offset + item.length] == source
        assert item.warc_sha256 == capture.warc_sha256
    index = warcio("index", "-f", "warc-type,warc-target-uri", str(out)).stdout
    assert index.count('"response"') == 2 and captures[1].url in index


def test_copy_records_refuses_altered_evidence(recorded, data_dir, tmp_path):
    captures = recorded(2)
    path = data_dir / captures[0].warc_file
    data = bytearray(path.read_bytes())
    data[captures[1].warc_offset + 20] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "bundle.warc.gz"
    with pytest.raises(ValueError, match="seq 2"):
        copy_records(captures, out, data_dir)
    assert not out.exists()


def _append_many(db_url: str, data_dir: str, count: int) -> None:
    engine = make_engine(db_url)
    with EvidenceRecorder(engine, data_dir, 10**8) as recorder:
        for n in range(count):
            record_page(recorder, n)


def test_concurrent_processes_keep_one_gapless_chain(engine, data_dir):
    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(url, str(data_dir), 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with Session(engine) as session:
        seqs = [c.seq for c in session.exec(select(Capture).order_by(Capture.seq))]
    assert seqs == list(range(1, 76))
    assert len(warc_files(data_dir)) == 3  # one file per process, never shared
    assert verify(engine, data_dir).ok
    assert warcio("check", *warc_files(data_dir)).returncode == 0


def test_sigkill_while_recording_leaves_valid_evidence(engine, data_dir):
    script = (
        "import os, sys; from scanner.store.db import make_engine; from scanner.evidence import EvidenceRecorder\n"
        "from tests.evidence.conftest import record_page\n"
        "recorder = EvidenceRecorder(make_engine(sys.argv[1]), sys.argv[2], 10**8)\n"
        "n = 0\n"
        "while True:\n"
        "    record_page(recorder, n, body=os.urandom(300000)); n += 1\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, engine.url.render_as_string(hide_password=False), str(data_dir)], cwd=Path(__file__).parents[2]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM capture")).scalar_one() >= 20:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert verify(engine, data_dir).ok
    assert warcio("check", *warc_files(data_dir)).returncode == 0
