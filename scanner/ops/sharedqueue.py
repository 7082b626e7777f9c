"""The shared crawl's request queue in Redis (``SCHEDULER_QUEUE_CLASS``): entries in JSON, checked when read.

scrapy-redis stores each request as a pickle and unpickles whatever it pops: anyone who can write to
the Redis server (a second tenant, a neighbour on the network, a leaked URL) could run code in every
crawler process with one ``ZADD``. Here entries are `scanner.crawl.queue_entry`'s JSON, and each
request popped is read back as that module says (a plain GET request, only this crawl's meta kept)
and checked as a link on a crawled page is: the egress policy's URL check and the spider's scope
(``rescope``: its targets, their domains and vantage points).

An entry that fails is refused: logged with its URL, counted in the run's error summary
(``shared queue: Nx entry refused: …``) and kept, with the reason, in the crawl's dead-letter list
in Redis (`DEAD_LETTER_SUFFIX`), where an operator can read it (``LRANGE <prefix>:deadletter 0 -1``);
the crawl goes on with the next entry. An entry larger than `MAX_ENTRY_BYTES` is moved aside inside
Redis (a key of its own, named in its dead-letter record) without being read into the crawler; so is
a queue key that is not a sorted set. The egress middleware still checks every request and DNS answer
before any connection.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from redis.exceptions import ResponseError
from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from scanner.crawl.queue_entry import (
    MAX_ENTRY_BYTES,
    EntryRefused,
    admit,
    decode,
    described,
    encode,
    spider_policy,
)
from scanner.printable import visible

log = logging.getLogger(__name__)
T = TypeVar("T")

FAILURE_KEY = "pkscan/failure/shared queue/entry refused: "
KEPT_KEY = "pkscan/failure/shared queue/refused entries kept in Redis list "
REFUSED_STAT = "scaleout/queue_entries_refused"
DEAD_LETTER_SUFFIX = ":deadletter"
DEAD_LETTER_TTL_SECONDS = 30 * 24 * 3600
COUNTS_SUFFIX = ":counts"  # a hash: entries 'queued' by the crawl's workers, 'taken' by them
KEY_CHECK_SUFFIX = ":keycheck"  # the duplicate filter's key check (scanner.crawl.dupefilter.Signer)
LOST_STAT = "scaleout/queue_lost"
# Moves KEYS[1] aside under the dead-letter key's name (its type is not a queue's).
_ASIDE = """
local function aside(kind)
  local key = KEYS[2] .. ':not-a-queue:' .. redis.call('INCR', KEYS[2] .. ':seq')
  redis.call('RENAME', KEYS[1], key)
  redis.call('EXPIRE', key, ARGV[2])
  return {2, key, kind}
end
"""
# Pops the first entry; one too large, or a key that is not a sorted set, is moved aside in Redis
# (never sent to the crawler). Returns {0, entry} | {1, aside key, size} | {2, aside key, type} | nil.
POP_SCRIPT = (
    _ASIDE
    + """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return false end
if kind ~= 'zset' then return aside(kind) end
if redis.call('ZCARD', KEYS[1]) == 0 then return false end
-- Counted before popping: a counts key of another type fails the script before the entry is taken.
redis.call('HINCRBY', KEYS[3], 'taken', 1)
local entry = redis.call('ZPOPMIN', KEYS[1])[1]
if string.len(entry) > tonumber(ARGV[1]) then
  local key = KEYS[2] .. ':oversized:' .. redis.call('INCR', KEYS[2] .. ':seq')
  redis.call('SET', key, entry, 'EX', ARGV[2])
  return {1, key, string.len(entry)}
end
return {0, entry}
"""
)
# Moves a queue key that is not a sorted set aside (asked when ZCARD answered WRONGTYPE).
ASIDE_SCRIPT = (
    _ASIDE
    + """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and kind ~= 'zset' then return aside(kind) end
return false
"""
)
# Adds an entry (ARGV[3], score ARGV[4]); a queue key that is not a sorted set is moved aside first.
PUSH_SCRIPT = (
    _ASIDE
    + """
local kind = redis.call('TYPE', KEYS[1]).ok
local moved = false
if kind ~= 'none' and kind ~= 'zset' then moved = aside(kind) end
redis.call('HEXISTS', KEYS[3], 'queued')  -- a counts key of another type fails here, before the ZADD
if redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3]) == 1 then redis.call('HINCRBY', KEYS[3], 'queued', 1) end
return moved
"""
)


# Moves each KEYS[i] whose type is neither none nor ARGV[i + 1] aside (kept ARGV[1] seconds); returns
# {key, type, aside key, ...} for those moved.
RETYPED_SCRIPT = """
local moved = {}
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key).ok
  if i > 1 and kind ~= 'none' and kind ~= ARGV[i] then
    local aside = KEYS[1] .. ':not-a-' .. ARGV[i] .. ':' .. redis.call('INCR', KEYS[1] .. ':seq')
    redis.call('RENAME', key, aside)
    redis.call('EXPIRE', aside, ARGV[1])
    table.insert(moved, key)
    table.insert(moved, kind)
    table.insert(moved, aside)
  end
end
return moved
"""


def crawl_keys(prefix: str) -> dict[str, str]:
    """The shared crawl's keys under ``prefix`` and the type each holds (`DEAD_LETTER_SUFFIX` aside)."""
    return {f"{prefix}:requests": "zset", f"{prefix}:dupefilter": "set", f"{prefix}:workers": "hash",
            f"{prefix}{COUNTS_SUFFIX}": "hash", f"{prefix}{KEY_CHECK_SUFFIX}": "string"}  # fmt: skip


def set_aside_wrong_types(server: Any, dead_letter_key: str, expected: dict[str, str], stats: Any) -> None:
    """Move the crawl's keys that hold another type than ``expected`` ({key: zset|set|hash}) aside
    before the crawl uses them (each command on such a key answers WRONGTYPE and stops the crawl):
    kept, named in the dead-letter list and in the run's summary."""
    keys = [dead_letter_key, *expected]
    moved = server.register_script(RETYPED_SCRIPT)(
        keys=keys, args=[DEAD_LETTER_TTL_SECONDS, *expected.values()]
    )
    for i in range(0, len(moved), 3):
        key, kind, aside = (value.decode(errors="replace") for value in moved[i : i + 3])
        _kept_aside(server, dead_letter_key, stats, key, aside, f"held a {kind}, not a {expected[key]}")


def _kept_aside(server: Any, dead_letter_key: str, stats: Any, key: str, aside: str, problem: str) -> None:
    """Name a crawl key moved aside (to ``aside``) in the dead-letter list, the run's summary and the log."""
    reason = f"the {key.rsplit(':', 1)[-1]} key {problem}"
    record = {"reason": reason, "at": time.time(), "what": key, "kept_in": aside}
    server.rpush(dead_letter_key, json.dumps(record))
    if stats is not None:
        stats.inc_value(f"{FAILURE_KEY}{reason}")
        stats.inc_value(f"{KEPT_KEY}{visible(dead_letter_key)}")
    log.warning("shared crawl key %s %s: moved to %s", visible(key), visible(problem), visible(aside))


# Redis' answers to HINCRBY on a counts field holding no 64-bit integer (anyone's HSET).
_NO_COUNT = ("hash value is not an integer", "increment or decrement would overflow")


def set_aside_counts(server: Any, prefix: str, stats: Any) -> None:
    """Move the queue's counts aside when a field holds no count: the push and pop scripts' HINCRBY
    failed on it, so every push and pop did and the crawl fetched nothing. With the counts gone the
    run cannot tell whether entries vanished and says so (`SharedPriorityQueue.lost`)."""
    set_aside(server, prefix, stats, COUNTS_SUFFIX, "not-counts", "held a value that is no count")


def set_aside(server: Any, prefix: str, stats: Any, suffix: str, label: str, problem: str) -> None:
    """Move the crawl's key ``prefix + suffix`` aside (renamed under the dead-letter key with ``label``,
    kept for a look) and name it with ``problem`` in the dead-letter list, the run's summary and the log."""
    key, dead_letter_key = f"{prefix}{suffix}", f"{prefix}{DEAD_LETTER_SUFFIX}"
    aside = f"{dead_letter_key}:{label}:{server.incr(f'{dead_letter_key}:seq')}"
    try:
        server.rename(key, aside)
    except ResponseError:
        return  # gone meanwhile (another worker moved it)
    server.expire(aside, DEAD_LETTER_TTL_SECONDS)
    _kept_aside(server, dead_letter_key, stats, key, aside, problem)


def retyped(server: Any, prefix: str, stats: Any, command: Callable[[], T]) -> T:
    """``command()``; when Redis answers WRONGTYPE (a key of the crawl set to another type mid-crawl:
    anyone's ``SET``), the crawl's keys holding another type are moved aside (`set_aside_wrong_types`:
    kept, named in the dead-letter list and the run's summary) and ``command`` runs again, so the
    crawl goes on instead of failing every request (a duplicate filter moved aside: pages the crawl
    saw may be fetched again, none skipped). A counts field holding no count (Redis' HINCRBY refuses
    it) moves the counts aside the same way (`set_aside_counts`)."""
    try:
        return command()
    except ResponseError as exc:
        if any(problem in str(exc) for problem in _NO_COUNT):
            set_aside_counts(server, prefix, stats)
        elif "WRONGTYPE" in str(exc):
            set_aside_wrong_types(server, f"{prefix}{DEAD_LETTER_SUFFIX}", crawl_keys(prefix), stats)
        else:
            raise
    return command()


class SharedPriorityQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis' priority queue (a sorted set, popped atomically) with JSON entries; a refused
    entry is kept in the dead-letter list and the next one popped."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        prefix = self.prefix = self.key.rsplit(":", 1)[0]
        self.dead_letter_key = f"{prefix}{DEAD_LETTER_SUFFIX}"
        self.counts_key = f"{prefix}{COUNTS_SUFFIX}"
        self.queued_here = 0  # entries this worker added (the counts in Redis can be no fewer)
        self._pop = self.server.register_script(POP_SCRIPT)
        self._push = self.server.register_script(PUSH_SCRIPT)
        self._aside = self.server.register_script(ASIDE_SCRIPT)
        self.policy = spider_policy(self.spider)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def _encode_request(self, request: Request) -> bytes:
        return encode(request, self.spider)

    def __len__(self) -> int:
        try:
            return int(self.server.zcard(self.key))
        except ResponseError:  # WRONGTYPE: the key holds something else
            moved = self._aside(
                keys=[self.key, self.dead_letter_key, self.counts_key],
                args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS],
            )
            if moved:
                self._not_a_queue(moved)
            return int(self.server.zcard(self.key))

    def _retyped(self, command: Callable[[], T]) -> T:
        return retyped(self.server, self.prefix, self._stats(), command)

    def _stats(self) -> Any:
        return getattr(getattr(self.spider, "crawler", None), "stats", None)

    def push(self, request: Request) -> None:
        keys, entry = [self.key, self.dead_letter_key, self.counts_key], self._encode_request(request)
        moved = self._retyped(
            lambda: self._push(
                keys=keys, args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS, entry, -request.priority]
            )
        )
        self.queued_here += 1
        if moved:
            self._not_a_queue(moved)

    def lost(self) -> str | None:
        """What went missing from the queue: entries the workers queued that none took and the queue
        no longer holds (the key deleted, or evicted under ``maxmemory``), or the whole state (Redis
        flushed or restarted without persistence); else None. Entries are added and taken together
        with their counts (one script each), so queued = taken + held whenever nothing else wrote."""

        def read() -> list[Any]:
            with self.server.pipeline(transaction=True) as pipe:
                return pipe.hgetall(self.counts_key).zcard(self.key).execute()  # type: ignore[no-any-return]

        raw_counts, held = self._retyped(read)
        # A count Redis could not have made (over 18 digits: more than int() reads past 4,300) is none.
        counts = {k.decode(): int(v) for k, v in raw_counts.items() if v.isdigit() and len(v) < 19}
        queued, taken = counts.get("queued", 0), counts.get("taken", 0)
        if queued < self.queued_here:
            return (
                "the shared queue's state was lost in Redis (flushed, restarted or its keys deleted):"
                " the requests queued before it are gone and their pages were not fetched"
            )
        if (vanished := queued - taken - held) > 0:
            return (
                f"{vanished} requests vanished from the shared queue in Redis (the key deleted or"
                " evicted): their pages were not fetched"
            )
        return None

    def _not_a_queue(self, moved: list[bytes]) -> None:
        aside, kind = moved[1].decode(), moved[2].decode(errors="replace")
        self._refused(f"the queue key held a {kind}, not a sorted set", self.key, None, aside)

    def _decode_request(self, encoded_request: bytes) -> Request:
        request = decode(encoded_request, self.spider)
        admit(request, self.spider, self.policy)
        return request

    def pop(self, timeout: int = 0) -> Request | None:
        while True:
            popped = self._retyped(
                lambda: self._pop(
                    keys=[self.key, self.dead_letter_key, self.counts_key],
                    args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS],
                )
            )
            if not popped:
                return None
            if popped[0] == 1:
                aside, size = popped[1].decode(), int(popped[2])
                self._refused(
                    f"larger than {MAX_ENTRY_BYTES} bytes", f"an entry of {size} bytes", None, aside
                )
                continue
            if popped[0] == 2:
                self._not_a_queue(popped)
                continue
            entry = popped[1]
            try:
                return self._decode_request(entry)
            except EntryRefused as refused:
                self._refused(str(refused), described(entry), entry, None)

    def _refused(self, reason: str, what: str, entry: bytes | None, aside: str | None) -> None:
        """Count, log and keep a refused entry (``aside``: the Redis key it was moved to instead)."""
        stats = self._stats()
        if stats is not None:
            stats.inc_value(REFUSED_STAT)
            stats.inc_value(f"{FAILURE_KEY}{reason}")
            stats.inc_value(f"{KEPT_KEY}{visible(self.dead_letter_key)}")
        record = {"reason": reason, "worker": self.worker, "at": time.time(), "what": what}
        if entry is not None:
            record["entry"] = base64.b64encode(entry).decode("ascii")
        if aside is not None:
            record["kept_in"] = aside
        with self.server.pipeline() as pipe:
            pipe.rpush(self.dead_letter_key, json.dumps(record))
            pipe.expire(self.dead_letter_key, DEAD_LETTER_TTL_SECONDS)
            pipe.execute()
        log.warning(
            "shared queue entry refused (%s): %s; kept in %s",
            visible(reason),
            what,
            visible(self.dead_letter_key),
            extra={"queue": self.key},
        )
