"""Scale-out: two crawler processes share one crawl through a real redis-server, each URL fetched once."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter

import pytest
from sqlmodel import Session, select

from scanner.ops.scaleout import redis_crawl_settings
from scanner.store.models import Capture, Run
from tests.ops.conftest import OpsSetup, write_config

SCANNER = [sys.executable, "-m", "scanner.cli.main"]
PAGES = 200
SPRAWL = """\
sites:
  - name: sprawl
    seeds: ["http://sprawl.test/page/0"]
    allowed_domains: [sprawl.test]
    max_depth: 20
    max_pages: 5000
    obey_robots: false
discovery: {enabled: false}
pollers: []
"""


def test_redis_settings_mapping() -> None:
    settings = redis_crawl_settings("redis://cache:6379/2")
    assert settings["REDIS_URL"] == "redis://cache:6379/2"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["SCHEDULER_PERSIST"] is True
    from scrapy.utils.misc import load_object
    from scrapy_redis.scheduler import Scheduler

    assert issubclass(load_object(settings["SCHEDULER"]), Scheduler)


@pytest.mark.slow
@pytest.mark.redis
def test_two_crawlers_on_redis_fetch_each_url_once(ops: OpsSetup, world: object, redis_url: str) -> None:
    # Paced (one page per 0.08 s a worker) so that the crawl outlasts the second process's start-up
    # on a loaded machine: unpaced, the first worker fetched all 200 pages before the other began
    # (which is correct behaviour, but leaves "both take part" untested).
    write_config(ops.config_dir, targets=SPRAWL, http=", autothrottle: false, download_delay_seconds: 0.08")
    # One deployment key on both (scanner.crawl.dupefilter): the database URL holds no password here.
    env = {**ops.env, "REDIS_URL": redis_url, "SCANNER_CRAWL_ID": f"test-{uuid.uuid4().hex[:8]}",
           "SCANNER_STATE_KEY": "the deployment's key"}  # fmt: skip
    # Two "machines": each its own data dir (WARC files, job dir), one shared database and one Redis.
    workers = [
        subprocess.Popen([*SCANNER, "crawl", "site", "--target", "sprawl"],
                         env={**env, "SCANNER_DATA_DIR": str(ops.data_dir.parent / f"machine-{i}")},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr[-3000:]

    with Session(ops.engine) as session:
        captures = list(session.exec(select(Capture)))
        crawl_runs = list(session.exec(select(Run).where(Run.kind == "crawl")))
    fetched = Counter(c.url for c in captures)
    twice = sorted(url for url, n in fetched.items() if n > 1)
    assert not twice, f"fetched more than once: {twice[:10]}"
    pages = {url for url in fetched if url.startswith("http://sprawl.test/page/")}
    assert len(pages) == PAGES, "together the two workers crawled the whole site"
    assert len(crawl_runs) == 2 and all(run.status == "ok" for run in crawl_runs)
    per_run = Counter(c.run_id for c in captures)
    assert all(per_run[run.id] > 0 for run in crawl_runs), f"both workers took part: {dict(per_run)}"
    import redis

    left = redis.Redis.from_url(redis_url).keys("pkscan:*")
    assert not left, f"the last worker clears the crawl's queue and filter, so the next crawl starts afresh: {left}"
