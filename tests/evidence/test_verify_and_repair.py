"""`evidence verify` names every bad record; `evidence repair` marks lost records in the chain, never rewriting it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from scanner.evidence import verify
from scanner.evidence.marks import MARK_URI
from scanner.evidence.repair import repair
from scanner.store.db import make_engine, upgrade
from scanner.store.models import Capture
from tests.evidence.test_evidence_log import warcio

SCANNER = str(Path(sys.executable).with_name("scanner"))
ROOT = Path(__file__).parents[2]


def flip_byte(data_dir: Path, capture: Capture) -> None:
    path = data_dir / capture.warc_file
    data = bytearray(path.read_bytes())
    data[capture.warc_offset + capture.warc_length // 2] ^= 0x01
    path.write_bytes(bytes(data))


def insert_junk_after(data_dir: Path, capture: Capture, junk: bytes) -> None:
    """What the old writer did on ENOSPC: part of a failed record stays, later records land behind it."""
    path = data_dir / capture.warc_file
    data = path.read_bytes()
    end = capture.warc_offset + capture.warc_length
    path.write_bytes(data[:end] + junk + data[end:])


def chain_seqs(engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(Capture.seq).order_by(col(Capture.seq))))


def test_every_damaged_record_is_reported_not_only_the_first(recorded, engine, data_dir):
    captures = recorded(6)
    flip_byte(data_dir, captures[1])
    flip_byte(data_dir, captures[3])
    report = verify(engine, data_dir)
    assert not report.ok and report.checked == 6
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "warc"), (4, "warc")]
    assert all("SHA-256" in p.reason for p in report.problems)
    assert report.captures == 4


def test_one_altered_row_is_one_problem_and_the_rest_still_verify(recorded, engine, data_dir):
    recorded(5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE capture SET url = 'http://innocent.test/' WHERE seq = 2"))
        conn.execute(text("DELETE FROM capture WHERE seq = 4"))
    report = verify(engine, data_dir)
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "chain"), (5, "chain")]
    assert "capture row altered" in report.problems[0].reason and "expected seq 4" in report.problems[1].reason


def test_repair_marks_a_lost_tail_in_the_chain_and_verify_then_names_it(recorded, engine, data_dir):
    captures = recorded(6)
    insert_junk_after(data_dir, captures[2], b"\x1f\x8b\x08\x00 half a record")  # seq 4..6 now misplaced
    before = verify(engine, data_dir)
    assert [p.seq for p in before.problems] == [4, 5, 6]

    result = repair(engine, data_dir, "disk full on 28 Nov; partial record left by the old writer", warc_max_bytes=10**8)
    assert [p.seq for p in result.marked] == [4, 5, 6] and not result.unrepairable
    assert result.mark is not None and result.mark.seq == 7 and result.mark.url == MARK_URI

    after = verify(engine, data_dir)
    assert after.ok and after.captures == 3 and after.marks == 1
    assert [(m.problem.seq, m.mark_seq) for m in after.marked] == [(4, 7), (5, 7), (6, 7)]
    assert all("disk full on 28 Nov" in str(m) for m in after.marked)
    # History is kept: the marked rows are still there; the mark is a WARC record warcio accepts.
    assert chain_seqs(engine) == [1, 2, 3, 4, 5, 6, 7]
    assert warcio("check", str(data_dir / result.mark.warc_file)).returncode == 0
    # The chain goes on behind the mark, and a second repair finds nothing to do.
    recorded(2)
    assert verify(engine, data_dir).ok
    again = repair(engine, data_dir, "again", warc_max_bytes=10**8)
    assert again.mark is None and not again.marked


def test_a_mark_cannot_hide_tampering_or_be_removed(recorded, engine, data_dir):
    captures = recorded(4)
    flip_byte(data_dir, captures[1])
    with engine.begin() as conn:
        conn.execute(text("UPDATE capture SET status = 404 WHERE seq = 3"))
    result = repair(engine, data_dir, "lost in a restore", warc_max_bytes=10**8)
    assert [p.seq for p in result.marked] == [2]
    assert [p.seq for p in result.unrepairable] == [3]
    assert [p.seq for p in verify(engine, data_dir).problems] == [3]  # the altered row still fails

    # Deleting the mark entry brings the lost record back as a problem (and leaves a gap if not last).
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM capture WHERE url = :uri"), {"uri": MARK_URI})
    assert [p.seq for p in verify(engine, data_dir).problems] == [2, 3]


def test_an_altered_mark_excuses_nothing(recorded, engine, data_dir):
    captures = recorded(3)
    flip_byte(data_dir, captures[0])
    mark = repair(engine, data_dir, "lost", warc_max_bytes=10**8).mark
    assert mark is not None
    flip_byte(data_dir, mark)
    report = verify(engine, data_dir)
    assert [p.seq for p in report.problems] == [1, 4] and not report.marked


@pytest.fixture
def cli_store(tmp_path: Path, demo_env: dict[str, str]):
    data_dir = Path(demo_env["SCANNER_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'pkscan.sqlite3'}")
    upgrade(engine)
    return engine, data_dir


def scanner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCANNER, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_lists_every_bad_record_then_repair_makes_verify_pass_naming_them(cli_store, demo_env):
    from scanner.evidence import EvidenceRecorder
    from tests.evidence.conftest import record_page

    engine, data_dir = cli_store
    with EvidenceRecorder(engine, data_dir, 10**8) as recorder:
        captures = [record_page(recorder, n) for n in range(5)]
    flip_byte(data_dir, captures[1])
    flip_byte(data_dir, captures[3])

    failed = scanner(demo_env, "evidence", "verify")
    out = " ".join(failed.stdout.split())
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "2 bad records among 5 chain entries" in out
    assert f"capture seq 2 ({captures[1].url})" in out and f"capture seq 4 ({captures[3].url})" in out
    assert "scanner evidence repair" in out

    dry = scanner(demo_env, "evidence", "repair", "--reason", "bad disk sectors", "--dry-run")
    assert dry.returncode == 0 and "would mark lost" in dry.stdout
    assert scanner(demo_env, "evidence", "verify").returncode == 1  # a dry run marks nothing

    repaired = scanner(demo_env, "evidence", "repair", "--reason", "bad disk sectors")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "2 records marked lost in chain entry 6" in " ".join(repaired.stdout.split())

    verified = scanner(demo_env, "evidence", "verify")
    out = " ".join(verified.stdout.split())
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "3 captures verified, 2 marked lost" in out
    assert f"capture seq 2 ({captures[1].url})" in out and "bad disk sectors" in out
