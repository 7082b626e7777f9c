"""A poll whose evidence cannot be written fails its run with one line, and the evidence log stays valid.

As in tests/evidence/test_write_faults.py the refusal is real: ``scanner poll`` runs under
``RLIMIT_FSIZE`` (EFBIG after a short write, as ENOSPC on a full disk); the store is PostgreSQL, so only
the WARC file meets the limit.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from scanner.evidence import verify
from scanner.store.db import make_engine
from scanner.store.models import Run
from scanner.world import World

from .conftest import DEMO, REPO_ROOT

WARCIO = str(Path(sys.executable).with_name("warcio"))
LIMIT = 2_000  # bytes: the file's warcinfo record fits, an exchange with 20 ads does not


def _file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the poll instead of failing write()
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_poll_that_cannot_write_evidence_fails_with_one_line(world: World, pg_url: str, tmp_path: Path):
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "https_proxy")}
    env.update(SCANNER_CONFIG_DIR=str(DEMO), SCANNER_DATA_DIR=str(data_dir), SCANNER_DATABASE_URL=pg_url,
               HTTP_PROXY=world.proxy_url, http_proxy=world.proxy_url)  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "scanner.cli.main", "poll", "binance-p2p"], env=env,
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                            preexec_fn=_file_size_limit)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "evidence not recorded" in result.stderr and "EFBIG" in result.stderr
    assert "Traceback" not in result.stderr

    engine = make_engine(pg_url)
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
    assert run.kind == "poll" and run.status == "failed"
    assert "evidence not recorded" in run.error_summary

    report = verify(engine, data_dir)
    assert report.ok and report.checked == 0
    files = sorted(str(p) for p in (data_dir / "warc").glob("*.warc.gz"))
    assert len(files) == 1  # warcinfo only: the refused exchange was cut off
    check = subprocess.run([WARCIO, "check", *files], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
