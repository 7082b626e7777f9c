"""Scale-out: several crawler processes (or machines) share one crawl through Redis (scrapy-redis).

With ``REDIS_URL`` set, `scanner.settings` applies `redis_crawl_settings`: the request queue and the
duplicate filter live in Redis, so every process pops from one queue and a URL one process has seen
is never fetched by another. PostgreSQL (``SCANNER_DATABASE_URL``) is the shared store, and each
process writes its own WARC files (their names carry host and pid).

Which processes share a crawl: those crawling the same spider and target (and ``SCANNER_CRAWL_ID``,
if set) while at least one of them is running. A worker that starts when no other worker of the crawl
is alive starts a fresh crawl (the queue and duplicate filter of a finished or crashed crawl are
dropped; resuming after a crash is the crawl's own job, from its evidence); the last worker to leave
drops them too, so tomorrow's crawl does not find every URL already seen. A worker that finishes says,
as its run's problem, if entries the workers queued vanished from Redis before any took them. Workers keep a heartbeat
in Redis (every `BEAT_SECONDS`); one silent for `STALE_WORKER_SECONDS` counts as dead.

A worker whose queue runs dry stays up while another worker of the crawl is busy (it may still push
new requests), polling the queue every `IDLE_POLL_SECONDS`; it closes once every worker is idle, or
once it has waited `peer_wait_seconds` without a request to take (a "busy" heartbeat is anyone's word:
whoever can write to Redis could hold every worker open for ever by refreshing one; a worker that is
really busy still fetches whatever it queues itself, so closing loses nothing). That is said in the
run's error summary.

The duplicate filter's entries are signed for this crawl with the deployment's key
(`scanner.crawl.dupefilter`), so an entry anyone else adds to the set never makes a worker skip a
page; the first worker writes a key check (``<prefix>:keycheck``) that joining workers compare with
their own, and a mismatch (workers holding different keys) is said in the run's error summary. A key
of the crawl that turns into another type while workers run is moved aside when a command on it
answers WRONGTYPE (`scanner.ops.sharedqueue.retyped`), and the command runs again.

Start requests are the one thing Scrapy sends past the duplicate filter (``dont_filter``); here a
start request already seen by a worker of the same crawl is dropped, so N workers fetch each seed
once, not N times. Retries (which also set ``dont_filter``) still go through.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from redis.exceptions import WatchError
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from scanner.crawl.context import crawl_config
from scanner.crawl.dupefilter import STATE_KEY_ENV, Signer, state_key
from scanner.crawl.vantage import VANTAGE, with_vantage
from scanner.ops.sharedqueue import (
    DEAD_LETTER_SUFFIX,
    KEY_CHECK_SUFFIX,
    LOST_STAT,
    crawl_keys,
    retyped,
    set_aside,
    set_aside_wrong_types,
)
from scanner.printable import visible

log = logging.getLogger(__name__)
T = TypeVar("T")
SHARED_FAILURE = "pkscan/failure/shared queue/"
KEY_PREFIX = "pkscan"
KEY_TTL_SECONDS = 2 * 24 * 3600
BEAT_SECONDS = 10.0
IDLE_POLL_SECONDS = 0.5
# A worker that has not been heard of for this long is taken for dead (not waited for, not counted).
STALE_WORKER_SECONDS = 6 * BEAT_SECONDS
# More workers than any one crawl runs: a longer heartbeat hash was written by someone else.
MAX_WORKERS = 1_000
# How long an idle worker waits for busy ones that queue nothing (SCANNER_PEER_WAIT_SECONDS): longer
# than any one page takes (the deadline, a render, retries with back-off).
PEER_WAIT_SECONDS = 600.0
PEER_WAIT_KEY = (
    "pkscan/failure/shared queue/closed after waiting {seconds:g} s for busy workers that queued nothing"
)


def peer_wait_seconds(env: dict[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    try:
        return max(float(env.get("SCANNER_PEER_WAIT_SECONDS", PEER_WAIT_SECONDS)), 0.0)
    except ValueError:
        return PEER_WAIT_SECONDS


def redis_crawl_settings(redis_url: str) -> dict[str, Any]:
    """Scrapy settings that make a crawl shared through the Redis server at ``redis_url``."""
    return {
        "SCHEDULER": "scanner.ops.scaleout.SharedCrawlScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # Kept after a worker closes: the others are still using it; a TTL cleans up instead.
        "SCHEDULER_PERSIST": True,
        # JSON entries, checked when read (scrapy-redis' own unpickles whatever the server holds).
        "SCHEDULER_QUEUE_CLASS": "scanner.ops.sharedqueue.SharedPriorityQueue",
        "REDIS_URL": redis_url,
    }


def crawl_id(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("SCANNER_CRAWL_ID", "")


def crawl_scope(spider: Spider) -> str:
    """Spider name plus its target, so two targets crawled at once never share a queue."""
    target = getattr(spider, "target_name", None) or getattr(spider, "target", None)
    target = getattr(target, "name", target)
    return f"{spider.name}:{target}" if isinstance(target, str) and target else spider.name


class SignedDupeFilter(RFPDupeFilter):
    """scrapy-redis' duplicate filter, telling vantage points apart (`scanner.crawl.vantage`: scrapy-redis
    fingerprints requests itself, not with Scrapy's REQUEST_FINGERPRINTER_CLASS), each fingerprint
    signed for this crawl (`scanner.crawl.dupefilter.Signer`): an entry anyone else added to the set
    never makes a worker skip a page. A set key turned into another type mid-crawl is moved aside
    (`scanner.ops.sharedqueue.retyped`), not answered WRONGTYPE for every request."""

    def __init__(self, server: Any, key: str, signer: Signer, prefix: str, stats: Any, debug: bool = False):
        super().__init__(server, key=key, debug=debug)
        self.signer, self.prefix, self.stats = signer, prefix, stats

    def request_fingerprint(self, request: Request) -> str:
        fingerprint = super().request_fingerprint(request).encode()
        if request.meta.get(VANTAGE):
            fingerprint = with_vantage(fingerprint, request)
        return self.signer.sign(fingerprint).hex()

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.request_fingerprint(request)
        return (
            retyped(self.server, self.prefix, self.stats, lambda: self.server.sadd(self.key, fingerprint))
            == 0
        )


class SharedCrawlScheduler(Scheduler):
    """scrapy-redis scheduler with per-crawl keys, a TTL, and start requests deduplicated across workers."""

    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawlScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        return instance

    def open(self, spider: Spider) -> None:
        # scrapy-redis %-formats the queue key with the spider name: keep a stray % literal.
        prefix = ":".join(p for p in (KEY_PREFIX, crawl_id(), crawl_scope(spider)) if p).replace("%", "%%")
        self.queue_key = f"{prefix}:requests"
        self.dupefilter_key = f"{prefix}:dupefilter"
        debug = spider.settings.getbool("DUPEFILTER_DEBUG")
        self.workers_key = f"{prefix}:workers"
        self.key_check_key = f"{prefix}{KEY_CHECK_SUFFIX}"
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.prefix = prefix
        signer = Signer(state_key(crawl_config(self.crawler or spider.crawler).data_dir, shared=True), prefix)
        self.df = SignedDupeFilter(self.server, self.dupefilter_key, signer, prefix, self.stats, debug)
        self._status = "busy"
        self._idle_since: float | None = None
        self._peer_wait = peer_wait_seconds()
        set_aside_wrong_types(self.server, f"{prefix}{DEAD_LETTER_SUFFIX}", crawl_keys(prefix), self.stats)
        joined = self._join(signer.check_value())
        if self.stats is not None and joined:
            self.stats.set_value("scaleout/joined_running_crawl", True)
        self._beat = task.LoopingCall(self._mark, None)
        self._beat.start(BEAT_SECONDS, now=False)
        super().open(spider)
        spider.logger.info(
            "shared crawl through Redis", extra={"redis_key_prefix": prefix, "joined_running_crawl": joined}
        )

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
            self._idle_since = None
            self._mark("busy")
        return request

    def has_pending_requests(self) -> bool:
        """Asked by the engine when this worker is idle: also wait for busy workers of the same crawl."""
        if super().has_pending_requests():
            return True
        self._mark("idle")
        if not any(status == "busy" for status in self._others().values()):
            return False
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since > self._peer_wait:
            if self.stats is not None:
                self.stats.set_value(PEER_WAIT_KEY.format(seconds=self._peer_wait), 1)
            return False
        self._poll_soon()
        return True

    def _poll_soon(self) -> None:
        # Left alone, an idle engine looks at the scheduler again only on its 5 s heartbeat; a worker
        # waiting for a busy peer would then miss most of the work it could share.
        engine = getattr(self.crawler, "engine", None)
        nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule(IDLE_POLL_SECONDS)

    def _mark(self, status: str | None) -> None:
        """Record our status (None: the same as before) with the time: the worker heartbeat."""
        self._status = status or self._status
        self._retyped(
            lambda: self.server.hset(self.workers_key, self.worker_id, f"{self._status} {time.time()}")
        )

    def _retyped(self, command: Callable[[], T]) -> T:
        return retyped(self.server, self.prefix, self.stats, command)

    def _others(self, workers: dict[bytes, bytes] | None = None) -> dict[str, str]:
        """Live workers of this crawl other than us: {worker id: busy|idle}."""
        if workers is None:
            workers = self._workers(self.server)
        now, live = time.time(), {}
        for member, state in workers.items():
            name, (status, _, stamp) = (
                member.decode(errors="replace"),
                state.decode(errors="replace").partition(" "),
            )
            try:
                age = now - float(stamp)
            except ValueError:
                continue  # not a heartbeat a worker wrote (the hash is shared with whoever reaches Redis)
            # A stamp far in the future (or NaN) would hold the crawl open for ever; some clock skew is fine.
            if name != self.worker_id and abs(age) < STALE_WORKER_SECONDS:
                live[name] = status
        return live

    def _workers(self, client: Any) -> dict[bytes, bytes]:
        """The workers' heartbeats, read through ``client`` (the server, or a pipeline watching the key).
        A hash longer than any crawl's workers was written by someone else: it is moved aside (each
        idle worker reads it twice a second; 200,000 forged fields cost it ~1 s of CPU a read)."""
        if self._retyped(lambda: client.hlen(self.workers_key)) > MAX_WORKERS:
            set_aside(self.server, self.prefix, self.stats, ":workers", "not-workers",
                      f"held more than {MAX_WORKERS} heartbeats")  # fmt: skip
            self._mark(None)
        return self._retyped(lambda: client.hgetall(self.workers_key))

    def _join(self, key_check: str) -> bool:
        """Register; the first live worker clears what a finished or crashed crawl left and writes the
        duplicate filter's key check (``key_check``), which a joining worker compares with its own.
        True if we joined a running crawl."""
        with self.server.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.workers_key, self.key_check_key)
                    joined = bool(self._others(self._workers(pipe)))
                    theirs = self._retyped(lambda: pipe.get(self.key_check_key)) if joined else None
                    pipe.multi()
                    if not joined:
                        pipe.delete(*crawl_keys(self.prefix))
                    if theirs is None:  # a new crawl (or its check deleted): ours is the crawl's
                        pipe.set(self.key_check_key, key_check, ex=KEY_TTL_SECONDS)
                    pipe.hset(self.workers_key, self.worker_id, f"busy {time.time()}")
                    pipe.execute()
                    break
                except WatchError:
                    continue
        if theirs is not None and theirs != key_check.encode():
            # Each worker then skips only what it saw itself: pages may be fetched twice, none skipped.
            problem = (
                f"the duplicate filter is signed with another key by this crawl's other workers"
                f" ({STATE_KEY_ENV} differs between them, or {visible(self.key_check_key)} was"
                " rewritten): pages they fetched may be fetched again here"
            )
            if self.stats is not None:
                self.stats.inc_value(f"{SHARED_FAILURE}{problem}")
            log.error("shared crawl: %s", problem)
        return joined

    def close(self, reason: str) -> None:
        if self._beat.running:
            self._beat.stop()
        super().close(reason)
        keys = list(crawl_keys(self.prefix))
        with self.server.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.workers_key)
                    last = not self._others(self._workers(pipe))
                    if reason == "finished" and self.stats is not None and (lost := self.queue.lost()):
                        # Said before the keys go: the run cannot be ok if queued pages were never fetched.
                        self.stats.set_value(LOST_STAT, lost)
                    pipe.multi()
                    if last:
                        pipe.delete(*keys)
                    else:
                        pipe.hdel(self.workers_key, self.worker_id)
                        for key in keys:
                            pipe.expire(key, KEY_TTL_SECONDS)
                    pipe.execute()
                    return
                except WatchError:
                    continue
