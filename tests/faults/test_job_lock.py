"""Two crawls of one job started in the same instant: exactly one runs, the other says why it did not."""

from __future__ import annotations

import subprocess

from sqlmodel import Session, select

from scanner.store.models import Run
from tests.crawl.conftest import SCANNER, Crawled, make_config


def test_two_crawls_of_one_job_started_together_do_not_both_run(world, tmp_path):
    config = make_config(tmp_path / "config", site_overrides={"rupee-exchange": {"max_pages": 5}})
    crawled = Crawled(world, config, tmp_path / "data")
    assert crawled.scanner("db", "upgrade").returncode == 0  # both start from a ready store, as in production
    argv = [SCANNER, "crawl", "site", "--target", "rupee-exchange"]
    procs = [subprocess.Popen(argv, env=crawled.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    results = [(p.wait(180), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    refused = next(out + err for code, out, err in results if code == 1)
    assert "crawl job site-rupee-exchange is already running (pid " in " ".join(refused.split()), refused
    assert "Traceback" not in refused and "FileNotFoundError" not in refused
    with Session(crawled.engine) as session:
        statuses = [run.status for run in session.exec(select(Run))]
    assert statuses == ["ok"]  # the refused crawl recorded no run of its own
