"""PostgreSQL stopped in the middle of a crawl and of a poll, then started again.

Before: the crawl kept its captures but stored no analysis and said `run ok`; another outage crashed
a crawl with a 280-line traceback and left its run `running` forever; a poll did the same.
After: the database errors are retried for a bounded time (SCANNER_DB_RETRY_SECONDS, 2 s here),
then the run stops with one line and exit 1, the structured log holds the traceback, the next start
closes the run as `interrupted`, and the next run heals what was lost.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from scanner.store.models import Finding, Platform
from tests.faults.conftest import Scanner, fault_config, human_lines

pytestmark = pytest.mark.slow


def assert_one_line_failure(output: str) -> None:
    lines = human_lines(output)
    assert len(lines) == 1 and "database unavailable" in lines[0], output[-4000:]
    assert "Traceback" in output  # in the structured log, as one JSON record


def test_postgres_stopped_mid_crawl_fails_the_run_in_one_line_and_the_next_crawl_heals(
    world, baseline, postgres, tmp_path
):
    scanner = Scanner(world, fault_config(tmp_path / "config"), tmp_path / "data", postgres.url)
    crawl = scanner.start("crawl", "site", log=tmp_path / "crawl.log")
    try:
        scanner.wait_for(lambda: scanner.count("pageanalysis") >= 10, crawl)
        postgres.stop()
        code = crawl.wait(120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    output = (tmp_path / "crawl.log").read_text()
    assert code == 1, output[-4000:]
    assert_one_line_failure(output)

    postgres.start()
    (lost,) = scanner.runs_cli()
    assert lost["status"] in ("failed", "interrupted"), lost  # never ok, never left running
    healed = scanner.run("crawl", "site")
    assert healed.returncode == 0, healed.stdout + healed.stderr[-3000:]
    assert scanner.flagged() >= baseline
    assert [run["status"] for run in scanner.runs_cli()][1:] == ["ok"]


def test_postgres_stopped_mid_poll_fails_the_run_in_one_line_and_the_next_poll_heals(
    world, postgres, tmp_path
):
    scanner = Scanner(world, fault_config(tmp_path / "config"), tmp_path / "data", postgres.url)
    # The simulated exchange answers each request after 4 s: the database goes away meanwhile.
    slow = "http://p2p.binance.test/__fault/slow@outage/"
    poll = scanner.start("poll", "binance-p2p", "--base-url", slow, log=tmp_path / "poll.log")
    try:
        scanner.wait_for(lambda: scanner.count("run") >= 1, poll)
        postgres.stop()
        code = poll.wait(120)
    finally:
        if poll.poll() is None:
            poll.kill()
    output = (tmp_path / "poll.log").read_text()
    assert code == 1, output[-4000:]
    assert_one_line_failure(output)

    postgres.start()
    (lost,) = scanner.runs_cli()
    assert lost["kind"] == "poll" and lost["status"] in ("failed", "interrupted"), lost
    healed = scanner.run("poll", "binance-p2p")
    assert healed.returncode == 0, healed.stdout + healed.stderr[-3000:]
    assert [run["status"] for run in scanner.runs_cli()] == [lost["status"], "ok"]
    with Session(scanner.engine) as session:
        verdict = session.exec(
            select(Finding.verdict)
            .join(Platform, Finding.platform_id == Platform.id)
            .where(Platform.key == "binance.test")
        ).one()
    assert verdict == "flag"
