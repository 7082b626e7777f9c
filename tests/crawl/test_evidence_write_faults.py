"""A crawl whose evidence writes are refused fails its run, keeps a valid log, and the next crawl heals.

The refusal is real: the crawl process runs under ``RLIMIT_FSIZE``, so the kernel accepts part of a
WARC write and fails the rest with EFBIG, as a filling disk does with ENOSPC. The store is PostgreSQL
(another process), so only the crawl's own files meet the limit, and the WARC file is by far the
largest of them. The second crawl runs without the limit: the space was freed.
"""

from __future__ import annotations

import resource
import signal
import subprocess

from sqlmodel import Session, col, select

from scanner.evidence import verify
from scanner.store.db import make_engine
from scanner.store.models import Capture, Run
from tests.conftest import REPO_ROOT
from tests.crawl.conftest import SCANNER, WARCIO, crawl_env, make_config

SPRAWL = {"name": "sprawl", "seeds": ["http://sprawl.test/page/0"], "allowed_domains": ["sprawl.test"],
          "max_depth": 20, "max_pages": 60, "schedule": "daily"}  # fmt: skip
WARC_LIMIT = 40_000  # bytes: room for the records of ~25 pages (~1.4 kB each), not of 60


def _file_size_limit(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the crawl instead of failing write()
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_crawl_that_cannot_write_evidence_fails_and_the_log_stays_verifiable(world, pg_url, tmp_path):
    config_dir = make_config(tmp_path / "config", extra_sites=[SPRAWL])
    data_dir = tmp_path / "data"
    env = {**crawl_env(world, config_dir, data_dir), "SCANNER_DATABASE_URL": pg_url}
    command = [SCANNER, "crawl", "site", "--target", "sprawl"]

    full = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                          preexec_fn=lambda: _file_size_limit(WARC_LIMIT))  # fmt: skip
    assert full.returncode == 1, full.stdout + full.stderr[-3000:]
    assert "failed" in full.stdout and "evidence not recorded for" in full.stdout, full.stdout

    engine = make_engine(pg_url)
    with Session(engine) as session:
        first = session.exec(select(Run).order_by(col(Run.id))).one()
        kept = len(session.exec(select(Capture)).all())
    assert first.status == "failed" and first.stats["pkscan/evidence_write_errors"] > 0
    assert "evidence not recorded" in first.error_summary
    assert 0 < kept == first.stats["pkscan/captures"]  # every page the run counts is in the chain

    freed = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert freed.returncode == 0, freed.stdout + freed.stderr[-3000:]

    report = verify(engine, data_dir)
    assert report.ok, report.problem
    files = sorted(str(p) for p in (data_dir / "warc").glob("*.warc.gz"))
    assert len(files) == 2
    # The file the refused writes went to ends with whole records: no partial record was left behind.
    check = subprocess.run([WARCIO, "check", *files], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
