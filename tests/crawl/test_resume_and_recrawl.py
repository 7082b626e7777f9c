"""Kill and resume, re-crawls, robots.txt, and `scrapy crawl` doing what `scanner crawl` does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from scanner.store.models import Capture, Finding, FindingEvent, PageAnalysis, Platform, Run, Signal
from tests.crawl.conftest import SCANNER, SCRAPY, Crawled, make_config, run

pytestmark = pytest.mark.slow

SPRAWL = {
    "name": "sprawl",
    "seeds": ["http://sprawl.test/page/0"],
    "allowed_domains": ["sprawl.test"],
    "max_depth": 20,
    "max_pages": 300,
    "schedule": "daily",
}


def counts(crawled: Crawled) -> dict[str, int]:
    with Session(crawled.engine) as session:
        return {
            "captures": session.exec(select(func.count()).select_from(Capture)).one(),
            "pages": session.exec(select(func.count()).select_from(PageAnalysis)).one(),
            "signals": session.exec(select(func.count()).select_from(Signal)).one(),
        }


def _interrupted_sprawl_crawl(world, tmp_path: Path, how: signal.Signals) -> tuple[Crawled, dict[str, int]]:  # noqa: ANN001
    """Crawl sprawl.test, send ``how`` once 40 pages are analysed; the crawl and what it had stored."""
    # 20 ms between requests: the crawl takes seconds, so the signal lands in the middle.
    config = make_config(tmp_path / "config", http={"download_delay_seconds": 0.02}, extra_sites=[SPRAWL])
    crawled = Crawled(world, config, tmp_path / "data")
    log = tmp_path / "interrupted.log"
    with log.open("w") as output:
        proc = subprocess.Popen([SCANNER, "crawl", "site", "--target", "sprawl"], env=crawled.env,
                                stdout=output, stderr=output)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if (crawled.data_dir / "pkscan.sqlite3").exists():
                    with crawled.engine.connect() as conn:
                        if conn.execute(text("SELECT count(*) FROM pageanalysis")).scalar_one() >= 40:
                            break
                time.sleep(0.05)
            os.kill(proc.pid, how)
        finally:
            proc.wait(60)
    before = counts(crawled)
    assert 40 <= before["pages"] < 250, (before, log.read_text()[-2000:])
    return crawled, before


def _after_resume(crawled: Crawled) -> tuple[list[Run], list[tuple[str, int]], int]:
    """The job's runs, the URLs captured more than once, and the number of pages analysed."""
    with Session(crawled.engine) as session:
        runs = list(session.exec(select(Run).order_by(Run.id)).all())
        duplicates = session.exec(
            select(Capture.url, func.count()).group_by(Capture.url).having(func.count() > 1)
        ).all()
        pages = session.exec(select(func.count(func.distinct(PageAnalysis.url)))).one()
    return runs, [tuple(row) for row in duplicates], pages


def test_sigkill_mid_crawl_then_resume_without_duplicate_evidence(world, tmp_path):
    crawled, before = _interrupted_sprawl_crawl(world, tmp_path, signal.SIGKILL)

    result = crawled.scanner("crawl", "site", "--target", "sprawl")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    runs, duplicates, pages = _after_resume(crawled)
    with Session(crawled.engine) as session:
        finding = session.exec(
            select(Finding)
            .join(Platform, Finding.platform_id == Platform.id)
            .where(Platform.key == "sprawl.test")
        ).one()
    assert [r.status for r in runs] == ["interrupted", "ok"]
    assert runs[1].stats.get("pkscan/resumed_runs") == [runs[0].id]
    # Most of the killed run's captures are answered from WARC. Not all: requests Scrapy had already taken
    # from its queue when the kill landed are not re-scheduled, and under load that backlog is large.
    assert runs[1].stats.get("pkscan/replayed", 0) >= before["captures"] // 2
    assert duplicates == []  # nothing fetched twice: committed captures were replayed from WARC
    assert pages == counts(crawled)["pages"] >= 290  # one analysis per page, the budget reached
    assert finding.last_seen >= finding.first_seen
    assert crawled.scanner("evidence", "verify").returncode == 0


def test_clean_pause_then_resume_continues_from_the_kept_queue(world, tmp_path):
    # SIGTERM is a clean pause (as Ctrl-C): the pending requests are kept in the job directory and the
    # next crawl continues from them, fetching nothing twice and without re-starting from the seeds.
    crawled, before = _interrupted_sprawl_crawl(world, tmp_path, signal.SIGTERM)
    job = crawled.data_dir / "jobs" / "site-sprawl"
    assert json.loads((job / "pkscan-job.json").read_text())["state"] == "paused"
    assert (job / "requests.queue" / "active.json").exists()

    result = crawled.scanner("crawl", "site", "--target", "sprawl")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    runs, duplicates, pages = _after_resume(crawled)
    assert [r.status for r in runs] == ["interrupted", "ok"]
    # Continued from the queue, not re-crawled from the seeds: only robots.txt (asked by every crawl) is
    # answered from the paused run's WARC.
    assert runs[1].stats.get("pkscan/replayed", 0) <= 1
    assert runs[1].stats.get("scheduler/dequeued", 0) >= 290 - before["pages"]  # the kept requests, then more
    assert duplicates == []
    assert pages == counts(crawled)["pages"] >= 290  # one analysis per page, the budget reached
    assert crawled.scanner("evidence", "verify").returncode == 0


def test_recrawl_adds_a_sighting_not_duplicates_and_scrapy_crawl_works_the_same(world, tmp_path):
    crawled = Crawled(world, make_config(tmp_path / "config"), tmp_path / "data")
    first = run([SCRAPY, "crawl", "site", "-a", "target=rupee-exchange"], crawled.env)
    assert first.returncode == 0, first.stderr[-2000:]
    after_first = counts(crawled)
    assert after_first["pages"] > 5

    second = crawled.scanner("crawl", "site", "--target", "rupee-exchange")
    assert second.returncode == 0, second.stdout + second.stderr[-2000:]
    assert "run #2 ok" in second.stdout and "1 findings flagged" in second.stdout
    after_second = counts(crawled)
    assert after_second["pages"] == after_first["pages"]
    assert after_second["signals"] == after_first["signals"]
    assert after_second["captures"] == 2 * after_first["captures"]  # each fetch is evidence of its own
    with Session(crawled.engine) as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()
        finding = session.exec(select(Finding)).one()
        events = session.exec(select(FindingEvent).order_by(FindingEvent.id)).all()
    assert [(r.name, r.status) for r in runs] == [("rupee-exchange", "ok"), ("rupee-exchange", "ok")]
    assert runs[0].pages == runs[1].pages and runs[0].items == runs[1].items
    assert finding.verdict == "flag" and finding.sightings == 2
    assert [(e.kind, e.run_id) for e in events] == [("first", runs[0].id), ("sighting", runs[1].id)]


def test_robots_txt_is_obeyed_unless_the_target_opts_out(world, tmp_path):
    private = "http://rupee-exchange.test/private/admin"
    seeds = {"seeds": ["http://rupee-exchange.test/", private], "max_depth": 0}
    for obey, expected in ((None, False), (False, True)):
        overrides = {"rupee-exchange": {**seeds, **({"obey_robots": obey} if obey is not None else {})}}
        config = make_config(tmp_path / f"config-{obey}", site_overrides=overrides)
        crawled = Crawled(world, config, tmp_path / f"data-{obey}")
        result = crawled.scanner("crawl", "site", "--target", "rupee-exchange")
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
        with Session(crawled.engine) as session:
            urls = set(session.exec(select(Capture.url)))
            run_row = session.exec(select(Run)).one()
        assert ("http://rupee-exchange.test/robots.txt" in urls) is not expected  # fetched only when obeyed
        assert (private in urls) is expected
        assert run_row.errors == 0  # a page robots.txt forbids is not an error
        assert run_row.stats.get("pkscan/robots_forbidden", 0) == (0 if expected else 1)


def test_crawl_cli_rejects_unknown_spider_and_target(world, tmp_path):
    crawled = Crawled(world, make_config(tmp_path / "config"), tmp_path / "data")
    unknown_spider = crawled.scanner("crawl", "nosuch")
    assert unknown_spider.returncode == 2 and "unknown spider 'nosuch'" in unknown_spider.stderr
    unknown_target = crawled.scanner("crawl", "site", "--target", "nosuch")
    assert unknown_target.returncode == 2 and "unknown site target 'nosuch'" in unknown_target.stderr
