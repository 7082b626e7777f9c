"""The shared crawl's request queue in Redis (``SCHEDULER_QUEUE_CLASS``): entries in JSON, checked when read.

scrapy-redis stores each request as a pickle and unpickles whatever it pops: anyone who can write to
the Redis server (a second tenant, a neighbour on the network, a leaked URL) could run code in every
crawler process with one ``ZADD``, and one entry that is not a pickle of a request stopped the crawl.
Here an entry is JSON (bytes as ``{"$b": base64}``) and is read back only into a plain Scrapy
``GET`` ``Request``: no class named by the entry is loaded, a callback must be one of the spider's own
public methods, and only the meta keys this crawl's own requests carry into the queue are kept
(`KEPT_META`): what would pick the route or the bounds of a download (``proxy``, ``download_maxsize``,
``download_slot``, ``dont_filter``'s offsite pass ...) or what the evidence records about it
(``vantage_country``) is set again by the crawl's own middlewares, never read from an entry. Counts
that bound a crawl (depth, retries, redirects) must be small non-negative integers.

Each request popped is then checked as a link on a crawled page is: the egress policy's URL check
(scheme, ``localhost``, internal addresses in any spelling) and the spider's own scope
(`rescope`: its targets, their domains and vantage points). An entry that fails is refused: logged with
its URL, counted in the run's error summary (``shared queue: Nx entry refused: …``) and kept, with
the reason, in the crawl's dead-letter list in Redis (`DEAD_LETTER_SUFFIX`), where an operator can
read it (``LRANGE <prefix>:deadletter 0 -1``); the crawl goes on with the next entry. An entry
larger than `MAX_ENTRY_BYTES` is moved aside inside Redis (a key of its own, named in its
dead-letter record) without being read into the crawler; so is a queue key that is not a sorted set.
The egress middleware still checks every request and DNS answer before any connection.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import socket
import time
from typing import Any

import scrapy
import webencodings
from redis.exceptions import ResponseError
from scrapy import Request, Spider
from scrapy_redis.queue import PriorityQueue

from scanner.net.egress import EgressPolicy, EgressRefused
from scanner.printable import visible

log = logging.getLogger(__name__)

# The meta keys a request of this crawl carries into the queue (our spiders' and Scrapy's spider and
# redirect/retry middlewares'); every other key is dropped when an entry is read. Among them: what
# Scrapy reads per request before the crawl's settings (``download_maxsize: 0`` is "no cap",
# ``download_timeout``, ``bindaddress``, ``download_slot``), the route (``proxy``: a forging proxy
# would write the evidence; Scrapy does not verify certificates, so HTTPS too), what the evidence
# records (``vantage_country``, ``capture_id``) and the crawl's checks (``allow_offsite``,
# ``dont_obey_robotstxt`` is set again by the spider's `rescope`).
KEPT_META = frozenset(
    {"target", "vantage", "depth", "retry_times", "redirect_times", "redirect_ttl", "redirect_urls",
     "redirect_reasons", "is_start_request", "dont_obey_robotstxt"}
)  # fmt: skip
# Counters the crawl bounds itself by: a negative depth escapes ``max_depth``, a negative
# ``redirect_times`` with a large ``redirect_ttl`` lets a redirect loop run for ever.
COUNTER_META = frozenset({"depth", "retry_times", "redirect_times", "redirect_ttl"})
# The one header a request of this crawl carries into the queue; the downloader middlewares set the
# others again (user agent, cookies from the jar, a vantage point's proxy credentials).
KEPT_HEADERS = frozenset({"referer"})
MAX_COUNTER = 1000
MAX_PRIORITY = 2**31
# A request of this crawl is a URL and a few short fields (~1 KB); browsers stop at 2 MB URLs.
MAX_ENTRY_BYTES = 1 << 20
FAILURE_KEY = "pkscan/failure/shared queue/entry refused: "
KEPT_KEY = "pkscan/failure/shared queue/refused entries kept in Redis list "
REFUSED_STAT = "scaleout/queue_entries_refused"
DEAD_LETTER_SUFFIX = ":deadletter"
DEAD_LETTER_TTL_SECONDS = 30 * 24 * 3600
# Pops the first entry; one too large, or a key that is not a sorted set, is moved aside in Redis
# (never sent to the crawler). Returns {0, entry} | {1, aside key, size} | {2, aside key, type} | nil.
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
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
local entry = popped[1]
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
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
return moved
"""
)


class EntryRefused(ValueError):
    """A queue entry that is not a request this crawl wrote."""


def _tagged(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _tagged(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(v) for v in value]
    return value


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$b" in obj:
        try:
            return base64.b64decode(obj["$b"], validate=True)
        except (TypeError, binascii.Error):
            raise EntryRefused("bad bytes") from None
    return obj


def encode(request: Request, spider: Spider) -> bytes:
    """A request as a queue entry. Meta values JSON cannot hold (an in-flight rendered page) are left out."""
    d = request.to_dict(spider=spider)
    d.pop("_class", None)  # only plain Requests are read back; the crawl makes no other kind
    d["headers"] = [[name, values] for name, values in d["headers"].items()]
    meta = {}
    for key, value in d["meta"].items():
        try:
            json.dumps(_tagged(value))
        except (TypeError, ValueError):
            continue
        meta[key] = value
    d["meta"] = meta
    return json.dumps(_tagged(d), separators=(",", ":")).encode()


def _method_name(spider: Spider, name: Any) -> str | None:
    """``name`` when it names a public method of the spider's class, other than scrapy.Spider's own
    (``start``, ``close``, ``from_crawler``...; ``parse`` is the one callback Scrapy names)."""
    if name is None:
        return None
    if (
        not isinstance(name, str)
        or name.startswith("_")
        or (name != "parse" and hasattr(scrapy.Spider, name))
    ):
        raise EntryRefused("callback is not the spider's")
    if not callable(getattr(type(spider), name, None)):
        raise EntryRefused("callback is not the spider's")
    return name


def _counter(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNTER


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The kept meta keys (`KEPT_META`), each of the type this crawl writes, or `EntryRefused`."""
    kept = {k: v for k, v in meta.items() if k in KEPT_META}
    if not all(_counter(kept[key]) for key in COUNTER_META & kept.keys()):
        raise EntryRefused("bad counter")
    urls, reasons = kept.get("redirect_urls", []), kept.get("redirect_reasons", [])
    if not (
        isinstance(kept.get("target", ""), str | None)
        and isinstance(kept.get("vantage", ""), str | None)
        and isinstance(kept.get("is_start_request", False), bool)
        and isinstance(kept.get("dont_obey_robotstxt", False), bool)
        and isinstance(urls, list)
        and len(urls) <= MAX_COUNTER
        and all(isinstance(u, str) for u in urls)
        and isinstance(reasons, list)
        and len(reasons) <= MAX_COUNTER
        and all(type(r) is int or isinstance(r, str) for r in reasons)
    ):
        raise EntryRefused("bad meta")
    return kept


def decode(data: bytes, spider: Spider) -> Request:
    """The request a queue entry holds, or `EntryRefused` saying why not."""
    try:
        d = json.loads(data, object_hook=_untag)
    except (ValueError, RecursionError):  # not UTF-8 or not JSON (a pickle, anything else)
        raise EntryRefused("not JSON") from None
    if not isinstance(d, dict) or not isinstance(d.get("url"), str):
        raise EntryRefused("not a request")
    if "_class" in d:
        raise EntryRefused("names a class")
    # The crawl only reads pages: a POST (a form sent on our behalf, to a site or anyone) is no entry of ours.
    if d.get("method", "GET") != "GET" or d.get("body", b"") != b"":
        raise EntryRefused("not a GET without a body")
    meta = d.get("meta") or {}
    headers = d.get("headers") or []
    encoding = d.get("encoding", "utf-8")
    priority, flags = d.get("priority", 0), d.get("flags") or []
    if not (
        isinstance(meta, dict)
        and isinstance(headers, list)
        and all(isinstance(h, list) and len(h) == 2 for h in headers)
        and isinstance(encoding, str)
        and webencodings.lookup(encoding) is not None
        and type(priority) is int
        and abs(priority) < MAX_PRIORITY
        and isinstance(flags, list)
    ):
        raise EntryRefused("bad field")
    # Cookies and callback arguments are nothing this crawl queues: a cookie would pick what a site shows.
    if d.get("cookies") or d.get("cb_kwargs"):
        raise EntryRefused("cookies or callback arguments")
    kept_meta = _meta(meta)
    callback, errback = _method_name(spider, d.get("callback")), _method_name(spider, d.get("errback"))
    try:
        return Request(
            d["url"],
            callback=getattr(spider, callback) if callback else None,
            errback=getattr(spider, errback) if errback else None,
            headers=[h for h in headers if isinstance(h[0], str) and h[0].lower() in KEPT_HEADERS],
            meta=kept_meta,
            encoding=encoding,
            priority=priority,
            dont_filter=bool(d.get("dont_filter")),
            flags=[str(f) for f in flags],
        )
    except (TypeError, ValueError, AttributeError, UnicodeError):
        raise EntryRefused("not a request") from None


def admit(request: Request, spider: Spider, policy: EgressPolicy) -> None:
    """`EntryRefused` unless ``request`` is one the spider could have made from a crawled link: a URL
    the egress policy fetches, within the spider's scope (`rescope`, which also sets the meta it
    derives from its targets)."""
    try:
        policy.check_url(request.url)
    except EgressRefused as refused:
        raise EntryRefused(f"egress refused ({refused.reason})") from None
    rescope = getattr(spider, "rescope", None)
    problem = rescope(request) if rescope is not None else "the spider cannot check queued requests"
    if problem:
        raise EntryRefused(problem)


def _url_of(entry: bytes) -> str:
    """The URL an entry names, printable and short, for a log line (or what the entry is)."""
    try:
        url = json.loads(entry).get("url")
    except (ValueError, RecursionError, AttributeError):
        url = None
    if not isinstance(url, str):
        return f"an entry of {len(entry)} bytes"
    return visible(url if len(url) <= 300 else f"{url[:300]}…")


class SharedPriorityQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis' priority queue (a sorted set, popped atomically) with JSON entries; a refused
    entry is kept in the dead-letter list and the next one popped."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dead_letter_key = f"{self.key.rsplit(':', 1)[0]}{DEAD_LETTER_SUFFIX}"
        self._pop = self.server.register_script(POP_SCRIPT)
        self._push = self.server.register_script(PUSH_SCRIPT)
        self._aside = self.server.register_script(ASIDE_SCRIPT)
        config = getattr(self.spider, "config", None)
        egress = getattr(getattr(config, "settings", None), "egress", None)
        self.policy = EgressPolicy.from_settings(egress) if egress is not None else EgressPolicy()
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def _encode_request(self, request: Request) -> bytes:
        return encode(request, self.spider)

    def __len__(self) -> int:
        try:
            return int(self.server.zcard(self.key))
        except ResponseError:  # WRONGTYPE: the key holds something else
            moved = self._aside(
                keys=[self.key, self.dead_letter_key], args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS]
            )
            if moved:
                self._not_a_queue(moved)
            return int(self.server.zcard(self.key))

    def push(self, request: Request) -> None:
        keys, entry = [self.key, self.dead_letter_key], self._encode_request(request)
        moved = self._push(
            keys=keys, args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS, entry, -request.priority]
        )
        if moved:
            self._not_a_queue(moved)

    def _not_a_queue(self, moved: list[bytes]) -> None:
        aside, kind = moved[1].decode(), moved[2].decode(errors="replace")
        self._refused(f"the queue key held a {kind}, not a sorted set", self.key, None, aside)

    def _decode_request(self, encoded_request: bytes) -> Request:
        request = decode(encoded_request, self.spider)
        admit(request, self.spider, self.policy)
        return request

    def pop(self, timeout: int = 0) -> Request | None:
        while True:
            popped = self._pop(
                keys=[self.key, self.dead_letter_key], args=[MAX_ENTRY_BYTES, DEAD_LETTER_TTL_SECONDS]
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
                self._refused(str(refused), _url_of(entry), entry, None)

    def _refused(self, reason: str, what: str, entry: bytes | None, aside: str | None) -> None:
        """Count, log and keep a refused entry (``aside``: the Redis key it was moved to instead)."""
        stats = getattr(getattr(self.spider, "crawler", None), "stats", None)
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
