"""Scale-out: several crawler processes (or machines) share one crawl through Redis (scrapy-redis).

With ``REDIS_URL`` set, `scanner.settings` applies `redis_crawl_settings`: the request queue and the
duplicate filter live in Redis, so every process pops from one queue and a URL one process has seen
is never fetched by another. PostgreSQL (``SCANNER_DATABASE_URL``) is the shared store, and each
process writes its own WARC files (their names carry host and pid).

Which processes share a crawl: those crawling the same spider and target with the same *crawl id*.
The id is ``SCANNER_CRAWL_ID`` if set, else the UTC date, so workers started on the same day join
each other and tomorrow's scheduled crawl starts afresh instead of finding every URL already seen.
Set ``SCANNER_CRAWL_ID`` yourself to run a target more than once a day, or to add workers to a
crawl started on another day. The Redis keys expire `KEY_TTL_SECONDS` after the last worker closes.

A worker whose queue runs dry stays up while another worker of the crawl is busy (it may still push
new requests), polling the queue on Scrapy's engine heartbeat; it closes once every worker is idle.

Start requests are the one thing Scrapy sends past the duplicate filter (``dont_filter``); here a
start request already seen by a worker of the same crawl is dropped, so N workers fetch each seed
once, not N times. Retries (which also set ``dont_filter``) still go through.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

KEY_PREFIX = "pkscan"
KEY_TTL_SECONDS = 2 * 24 * 3600
# A worker that has not taken a request for this long is not waited for (it may have died).
BUSY_STALE_SECONDS = 60.0


def redis_crawl_settings(redis_url: str) -> dict[str, Any]:
    """Scrapy settings that make a crawl shared through the Redis server at ``redis_url``."""
    return {
        "SCHEDULER": "scanner.ops.scaleout.SharedCrawlScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # Kept after a worker closes: the others are still using it; a TTL cleans up instead.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "REDIS_URL": redis_url,
    }


def crawl_id(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("SCANNER_CRAWL_ID") or datetime.now(UTC).strftime("%Y-%m-%d")


def crawl_scope(spider: Spider) -> str:
    """Spider name plus its target, so two targets crawled at once never share a queue."""
    target = getattr(spider, "target_name", None) or getattr(spider, "target", None)
    target = getattr(target, "name", target)
    return f"{spider.name}:{target}" if isinstance(target, str) and target else spider.name


class SharedCrawlScheduler(Scheduler):
    """scrapy-redis scheduler with per-crawl keys, a TTL, and start requests deduplicated across workers."""

    def open(self, spider: Spider) -> None:
        # scrapy-redis %-formats the queue key with the spider name: keep a stray % literal.
        prefix = f"{KEY_PREFIX}:{crawl_id()}:{crawl_scope(spider)}".replace("%", "%%")
        self.queue_key = f"{prefix}:requests"
        self.dupefilter_key = f"{prefix}:dupefilter"
        debug = spider.settings.getbool("DUPEFILTER_DEBUG")
        self.workers_key = f"{prefix}:workers"
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.df = RFPDupeFilter(self.server, key=self.dupefilter_key, debug=debug)
        self._mark("busy")
        super().open(spider)
        spider.logger.info("shared crawl through Redis", extra={"redis_key_prefix": prefix})

    def enqueue_request(self, request: Request) -> bool:
        first_try = not request.meta.get("retry_times")
        if request.dont_filter and request.meta.get("is_start_request") and first_try:
            if self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
        return super().enqueue_request(request)

    def next_request(self) -> Request | None:
        request = super().next_request()
        if request is not None:
            self._mark("busy")
        return request

    def has_pending_requests(self) -> bool:
        """Asked by the engine when this worker is idle: also wait for busy workers of the same crawl."""
        if super().has_pending_requests():
            return True
        now = self._mark("idle")
        for member, state in self.server.hgetall(self.workers_key).items():
            name, (status, _, stamp) = member.decode(), state.decode().partition(" ")
            if name != self.worker_id and status == "busy" and now - float(stamp) < BUSY_STALE_SECONDS:
                return True
        return False

    def _mark(self, status: str) -> float:
        now = time.time()
        self.server.hset(self.workers_key, self.worker_id, f"{status} {now}")
        return now

    def close(self, reason: str) -> None:
        super().close(reason)
        self.server.hdel(self.workers_key, self.worker_id)
        for key in (self.queue_key, self.dupefilter_key, self.workers_key):
            self.server.expire(key, KEY_TTL_SECONDS)
