"""The database's disk fills in the middle of a crawl (SQLite), then space is freed.

The fault is real: the crawl runs under ``RLIMIT_FSIZE``, so the kernel refuses SQLite's writes
beyond the limit exactly as a full disk does (a short write, then an error); the WARC files rotate
below the limit, so only the database hits it. Running the next crawl without the limit is
"freeing the space".

Before: the summary said `6 findings flagged` while the database held none, exit 0.
After: the crawl stops with one line naming the database, exit 1, never `ok`; the next crawl closes
the dead run, flags every platform of the baseline, and the evidence log verifies.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.crawl.conftest import SCANNER
from tests.faults.conftest import Scanner, fault_config, human_lines

pytestmark = pytest.mark.slow

DATABASE_LIMIT = 1_000_000  # the crawl's write-ahead log passes 2.5 MB without a limit
WARC_ROTATION = 200_000  # every WARC file stays well below the limit


def crawl_on_a_full_disk(scanner: Scanner, limit: int) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        signal.signal(
            signal.SIGXFSZ, signal.SIG_IGN
        )  # else the kernel kills the writer instead of failing write()
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return subprocess.run(
        [SCANNER, "crawl", "site"], env=scanner.env, cwd=scanner.env["PYTHONPATH"], capture_output=True, text=True,
        timeout=180, preexec_fn=limit_file_size,
    )  # fmt: skip


def test_a_full_database_disk_fails_the_crawl_in_one_line_and_the_next_crawl_heals(
    world, baseline, tmp_path: Path
):
    config = fault_config(tmp_path / "config")
    settings = yaml.safe_load((config / "settings.yaml").read_text())
    (config / "settings.yaml").write_text(yaml.safe_dump({**settings, "warc_max_bytes": WARC_ROTATION}))
    scanner = Scanner(world, config, tmp_path / "data")
    assert scanner.run("runs").returncode == 0  # the database exists, well below the limit
    database = tmp_path / "data" / "pkscan.sqlite3"
    assert database.stat().st_size < DATABASE_LIMIT / 2

    full = crawl_on_a_full_disk(scanner, DATABASE_LIMIT)
    output = full.stdout + full.stderr
    assert full.returncode == 1, output[-4000:]
    lines = human_lines(output)
    assert len(lines) == 1 and "database unavailable" in lines[0], output[-4000:]
    assert any(word in lines[0] for word in ("disk is full", "disk I/O error")), lines[0]
    assert "run ok" not in output and "findings flagged" not in output
    assert max(path.stat().st_size for path in database.parent.glob("pkscan.sqlite3*")) <= DATABASE_LIMIT

    healed = scanner.run("crawl", "site")
    assert healed.returncode == 0, healed.stdout + healed.stderr[-3000:]
    statuses = [run["status"] for run in scanner.runs_cli()]
    assert statuses[0] in ("failed", "interrupted") and statuses[-1] == "ok", statuses
    assert scanner.flagged() >= baseline
    verified = scanner.run("evidence", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert os.listdir(tmp_path / "data" / "warc")
