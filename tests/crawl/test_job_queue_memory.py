"""The job queue holds requests in memory up to a budget, then in its files; a close (the pause)
writes what it held ahead of the files' entries, so the paused queue reads back whole and in order.

The crawl-level tests (`test_job_queue.py`, `test_resume_and_recrawl.py`, tests/faults) pause, kill
and resume real crawls; this one checks the order and the budget on the queue itself.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request

from scanner.config import Config
from scanner.crawl import queues
from scanner.crawl.queues import JsonFifoDiskQueue
from spiders.site import SiteSpider
from tests.hostile.conftest import write_config


class _Crawler(SimpleNamespace):
    """What the queue reads of a crawler; hashed and weakly referenced as a Crawler is."""

    __hash__ = object.__hash__


def _crawler(tmp_path: Path) -> _Crawler:
    sites = [{"name": "sprawl", "seeds": ["http://sprawl.test/"], "allowed_domains": ["sprawl.test"]}]
    spider = SiteSpider(config=Config(write_config(tmp_path / "config", {"sites": sites}), env={}))
    settings = SimpleNamespace(get=lambda name, default=None: str(tmp_path / "job") if name == "JOBDIR" else default)
    return _Crawler(spider=spider, settings=settings, stats=None)


def _requests(spider: SiteSpider, numbers: range) -> list[Request]:
    return [
        Request(f"http://sprawl.test/page/{n}", callback=spider.parse, errback=spider.failed,
                meta={"target": "sprawl", "depth": 2, "vantage": None, "dont_obey_robotstxt": False})
        for n in numbers
    ]  # fmt: skip


@pytest.mark.parametrize("budget", [0, 3, 1000])
def test_memory_then_files_in_order_and_a_close_keeps_everything(tmp_path, monkeypatch, budget):  # noqa: ANN001
    monkeypatch.setattr(queues, "MEMORY_REQUESTS", budget)
    crawler = _crawler(tmp_path)
    key = str(tmp_path / "job" / "requests.queue" / "0")
    queue = JsonFifoDiskQueue(crawler, key)
    pushed = _requests(crawler.spider, range(10))
    for request in pushed[:6]:
        queue.push(request)
    assert [queue.pop().url for _ in range(2)] == [r.url for r in pushed[:2]]
    for request in pushed[6:]:
        queue.push(request)
    assert len(queue) == 8 and queue.peek().url == pushed[2].url
    # The whole crawl's queues share the budget: this one holds at most `budget` in memory.
    assert len(queue._memory) <= budget and queue._budget[0] == len(queue._memory)
    queue.close()
    assert queue._budget[0] == 0

    resumed = JsonFifoDiskQueue(crawler, key)  # read back from the files only, checked
    assert len(resumed) == 8 and not resumed._memory
    popped = [resumed.pop() for _ in range(8)]
    assert [r.url for r in popped] == [r.url for r in pushed[2:]]
    assert all(r.callback == crawler.spider.parse and r.meta["depth"] == 2 for r in popped)
    assert resumed.pop() is None
    resumed.close()
    assert not Path(key).exists(), "an empty queue leaves no files"
