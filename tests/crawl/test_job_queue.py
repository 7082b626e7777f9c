"""A paused crawl's job directory read again on resume: what its queue files hold is data, never code,
and files cut short or forged are named, kept aside, and cost no page.

Scrapy's disk queues stored pickles and unpickled whatever the job directory held when a paused crawl
resumed: a job directory written by someone else (a restored backup, a copied data dir) ran code in
the crawler, and a file cut short stopped the crawl. Each test pauses a crawl of sprawl.test with
SIGTERM, changes its queue files on disk as such a writer or a crash would, and resumes it.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from queuelib.queue import FifoDiskQueue

from tests.crawl.test_resume_and_recrawl import _after_resume, _interrupted_sprawl_crawl, counts

pytestmark = pytest.mark.slow


class _RunsCode:
    """Unpickling this makes a directory: what any file in a job directory could do to a pickle queue."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def _fullest_queue(job: Path) -> Path:
    dirs = [info.parent for info in (job / "requests.queue").rglob("info.json")]
    return max(dirs, key=lambda d: json.loads((d / "info.json").read_text())["size"])


@pytest.mark.parametrize("damage", ["pickle", "cut short", "priority path"])
def test_paused_queue_written_by_someone_else_or_cut_short(world, tmp_path, damage):  # noqa: ANN001
    crawled, before = _interrupted_sprawl_crawl(world, tmp_path, __import__("signal").SIGTERM)
    job = crawled.data_dir / "jobs" / "site-sprawl"
    queue = _fullest_queue(job)
    marker = tmp_path / "code-ran"
    if damage == "pickle":
        fifo = FifoDiskQueue(str(queue))
        fifo.push(pickle.dumps(_RunsCode(marker), protocol=4))
        fifo.close()
        where = "is not a request in JSON"
    elif damage == "cut short":
        chunk = max(queue.glob("q*"))
        os.truncate(chunk, chunk.stat().st_size - 7)  # a crash in the middle of the last write
        where = "cut short in request"
    else:  # a priority naming a directory elsewhere: Scrapy would open (and create) it
        active = job / "requests.queue" / "active.json"
        active.write_text(
            json.dumps({slot: ["../../../../elsewhere"] for slot in json.loads(active.read_text())})
        )
        where = "active.json: not a list of priorities"

    result = crawled.scanner("crawl", "site", "--target", "sprawl")

    assert not marker.exists(), "a file in the job directory ran code in the crawler"
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert not (tmp_path / "elsewhere").exists()
    runs, duplicates, pages = _after_resume(crawled)
    assert [r.status for r in runs] == ["interrupted", "ok"], runs[-1].error_summary
    line = next(ln for ln in runs[1].error_summary.splitlines() if "paused queue unreadable" in ln)
    assert where in line and str(job) in line, line
    (aside,) = job.glob("unreadable-*")
    assert (aside / "requests.queue" / "active.json").exists(), "the unreadable state is kept for a look"
    # Nothing lost: restarted from the seeds, the paused run's pages replayed from its evidence.
    assert runs[1].stats.get("pkscan/replayed", 0) >= before["pages"] - 1
    assert duplicates == []
    assert pages == counts(crawled)["pages"] >= 290
    assert crawled.scanner("evidence", "verify").returncode == 0


def _seen_records(fingerprints: list[bytes]) -> bytes:
    """Scrapy's requests.seen: each fingerprint as its big-endian 2-byte length, then its bytes."""
    return b"".join(len(fp).to_bytes(2, "big") + fp for fp in fingerprints)


@pytest.mark.parametrize("damage", ["forged", "cut short", "huge", "anyone's 16 bytes"])
def test_paused_duplicate_filter_written_by_someone_else_or_cut_short(world, tmp_path, damage):  # noqa: ANN001
    """The paused job's ``requests.seen``: Scrapy's fingerprints of every page of the site (a SHA-1
    anyone can compute) made the resumed crawl skip those pages without a word; a file cut short or of
    gigabytes was read as it was (whole, into memory). Fingerprints are now signed with the deployment's
    key (`scanner.crawl.dupefilter`): a file that holds anything else, is cut short or too large is
    set aside with the rest of the paused state (restart from the seeds, replaying); records of the
    right length that no one could sign match nothing (the crawl resumes and skips no page)."""
    from scrapy import Request
    from scrapy.utils.request import fingerprint

    crawled, before = _interrupted_sprawl_crawl(world, tmp_path, __import__("signal").SIGTERM)
    job = crawled.data_dir / "jobs" / "site-sprawl"
    seen = job / "requests.seen"
    assert seen.stat().st_size > 0
    if damage == "forged":
        pages = [fingerprint(Request(f"http://sprawl.test/page/{i}")) for i in range(400)]
        seen.write_bytes(_seen_records(pages))
        where = "requests.seen: record 1 (byte 0) is a 20-byte fingerprint, not a signed one of 16"
    elif damage == "cut short":
        os.truncate(seen, seen.stat().st_size - 5)
        where = "requests.seen: cut short in record"
    elif damage == "huge":
        os.truncate(seen, 65 << 20)  # sparse: what a file of gigabytes would be, on a small disk
        where = f"requests.seen: {65 << 20} bytes, more than the"
    else:
        with seen.open("ab") as out:
            out.write(_seen_records([os.urandom(16) for _ in range(10_000)]))
        where = None

    result = crawled.scanner("crawl", "site", "--target", "sprawl")

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    runs, duplicates, pages = _after_resume(crawled)
    assert [r.status for r in runs] == ["interrupted", "ok"], runs[-1].error_summary
    if where is None:
        assert "paused queue unreadable" not in (runs[1].error_summary or "")
        assert not list(job.glob("unreadable-*"))
    else:
        line = next(ln for ln in runs[1].error_summary.splitlines() if "paused queue unreadable" in ln)
        assert where in line and str(job) in line, line
        (aside,) = job.glob("unreadable-*")
        assert (aside / "requests.seen").exists(), "the unreadable state is kept for a look"
        assert runs[1].stats.get("pkscan/replayed", 0) >= before["pages"] - 1
    # Nothing lost, nothing fetched twice: no page skipped because of what the file held.
    assert duplicates == []
    assert pages == counts(crawled)["pages"] >= 290
