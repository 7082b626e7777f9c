"""A redirect (Location, or a meta refresh) to something that is no URL fails its page with a reason
that says so, and the crawl goes on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlmodel import Session, select

from scanner.crawl.redirects import INVALID_TARGET
from scanner.store.db import make_engine, upgrade
from scanner.store.models import Capture, Run

from .conftest import SCANNER, Hostile, hostile_env, write_config

PATHS = ("/go/invalid-v6", "/go/invalid-port", "/refresh/invalid", "/clear")


def test_redirects_to_invalid_urls_are_named_in_the_run_summary(hostile: Hostile, tmp_path: Path) -> None:
    seeds = [hostile.url(path) for path in PATHS]
    netloc = seeds[0].split("/")[2]
    targets = {"sites": [{"name": "redirects", "seeds": seeds, "max_depth": 0, "max_pages": 10,
                          "allowed_domains": ["hostile.test", netloc]}]}  # fmt: skip
    config_dir = write_config(tmp_path / "config", targets)
    data_dir = tmp_path / "data"
    result = subprocess.run([SCANNER, "crawl", "site"], env=hostile_env(config_dir, data_dir), capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    engine = make_engine(f"sqlite:///{data_dir / 'pkscan.sqlite3'}")
    upgrade(engine)
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captured = {c.url for c in session.exec(select(Capture))}
    assert run.error_summary.splitlines() == [f"www.hostile.test: 3x {INVALID_TARGET} (ValueError)"]
    assert set(seeds) <= captured  # each answer is evidence; the crawl went on to /clear
