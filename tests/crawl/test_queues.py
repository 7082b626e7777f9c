"""The crawl's pausable queue: what is pending at a pause is what the next crawl of the job fetches."""

from __future__ import annotations

import scrapy
from scrapy.squeues import PickleFifoDiskQueue
from scrapy.utils.test import get_crawler

from scanner.crawl.queues import PausableFifoQueue


class Spider(scrapy.Spider):
    name = "queued"

    def parse_page(self, response):  # noqa: ANN001, ANN201 - a callback to name
        return None

    def failed(self, failure):  # noqa: ANN001, ANN201
        return None


def _crawler():  # noqa: ANN202
    crawler = get_crawler(Spider)
    crawler.spider = Spider()
    crawler.stats.open_spider()
    return crawler


def _request(spider: Spider, number: int, **meta: object) -> scrapy.Request:
    return scrapy.Request(f"http://sprawl.test/page/{number}", callback=spider.parse_page,
                          errback=spider.failed, meta={"target": "sprawl", **meta})  # fmt: skip


def test_requests_pending_at_a_pause_are_fetched_in_order_by_the_next_crawl(tmp_path):
    key = str(tmp_path / "requests.queue" / "-1")
    paused = _crawler()
    queue = PausableFifoQueue.from_crawler(paused, key)
    for number in range(5):
        queue.push(_request(paused.spider, number, depth=number))
    assert queue.pop().url.endswith("/page/0")  # fetched before the pause
    queue.close()

    resumed = _crawler()
    again = PausableFifoQueue.from_crawler(resumed, key)
    assert len(again) == 4
    assert again.peek().url.endswith("/page/1")
    popped = [again.pop() for _ in range(4)]
    assert [r.url.rsplit("/", 1)[1] for r in popped] == ["1", "2", "3", "4"]
    assert [r.meta["depth"] for r in popped] == [1, 2, 3, 4]
    assert popped[0].callback == resumed.spider.parse_page and popped[0].errback == resumed.spider.failed
    assert again.pop() is None and len(again) == 0
    again.close()
    assert list((tmp_path / "requests.queue").iterdir()) == []  # nothing pending: nothing kept


def test_a_request_that_cannot_be_written_is_dropped_at_the_pause_and_counted(tmp_path):
    key = str(tmp_path / "requests.queue" / "0")
    crawler = _crawler()
    queue = PausableFifoQueue.from_crawler(crawler, key)
    queue.push(_request(crawler.spider, 1))
    queue.push(scrapy.Request("http://sprawl.test/page/2", callback=lambda response: None))  # not a method
    queue.push(_request(crawler.spider, 3, handle=lambda: None))  # meta that pickle refuses
    queue.push(_request(crawler.spider, 4))
    queue.close()
    assert crawler.stats.get_value("scheduler/unserializable") == 2

    again = PausableFifoQueue.from_crawler(_crawler(), key)
    assert [again.pop().url for _ in range(len(again))] == [
        "http://sprawl.test/page/1",
        "http://sprawl.test/page/4",
    ]


def test_a_queue_paused_in_scrapys_own_disk_format_is_read_after_an_upgrade(tmp_path):
    key = str(tmp_path / "requests.queue" / "0")
    crawler = _crawler()
    old = PickleFifoDiskQueue(crawler, key)
    for number in range(3):
        old.push(_request(crawler.spider, number))
    old.close()

    queue = PausableFifoQueue.from_crawler(_crawler(), key)
    assert [queue.pop().url.rsplit("/", 1)[1] for _ in range(3)] == ["0", "1", "2"]
    queue.push(_request(crawler.spider, 9))
    queue.close()
    assert [r.url for r in (PausableFifoQueue.from_crawler(_crawler(), key).pop(),)] == [
        "http://sprawl.test/page/9"
    ]
