"""The shared crawl's request queue in Redis (``SCHEDULER_QUEUE_CLASS``): entries in JSON, checked when read.

scrapy-redis stores each request as a pickle and unpickles whatever it pops: anyone who can write to
the Redis server (a second tenant, a neighbour on the network, a leaked URL) could run code in every
crawler process with one ``ZADD``, and one entry that is not a pickle of a request stopped the crawl.
Here an entry is JSON (bytes as ``{"$b": base64}``) and is read back only into a plain Scrapy
``Request``: no class named by the entry is loaded, a callback must be one of the spider's own public
methods, and meta keys that set a download's bounds (size, time, source address) are left out, so
the crawl's settings apply; counts that bound a crawl (depth, retries, redirects) must be small
non-negative integers. An entry that is not such a request is dropped, logged and counted in the
run's error summary (``shared queue: Nx entry refused: …``); the crawl goes on with the next one.
A refused URL needs nothing here: every request, whatever queue it came from, passes the egress
policy's downloader middleware (`scanner.crawl.egress`) before any connection.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import Any

import scrapy
import webencodings
from scrapy import Request, Spider
from scrapy_redis.queue import PriorityQueue

from scanner.printable import visible

log = logging.getLogger(__name__)

# Scrapy reads these per request, before the crawl's settings: an entry could lift the size cap
# (``download_maxsize: 0`` is "no limit"), the total deadline, or pick the source address.
BOUND_META = frozenset({"download_maxsize", "download_warnsize", "download_timeout", "bindaddress"})
# Counters the crawl bounds itself by: a negative depth escapes ``max_depth``, a negative
# ``redirect_times`` with a large ``redirect_ttl`` lets a redirect loop run for ever.
COUNTER_META = frozenset({"depth", "retry_times", "redirect_times", "redirect_ttl"})
MAX_COUNTER = 1000
MAX_PRIORITY = 2**31
METHOD = re.compile(r"[A-Z]{1,16}")
FAILURE_KEY = "pkscan/failure/shared queue/entry refused: "
REFUSED_STAT = "scaleout/queue_entries_refused"


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
    method = d.get("method", "GET")
    if not isinstance(method, str) or not METHOD.fullmatch(method):
        raise EntryRefused("bad method")
    meta = d.get("meta") or {}
    headers = d.get("headers") or []
    body, encoding = d.get("body", b""), d.get("encoding", "utf-8")
    priority, flags = d.get("priority", 0), d.get("flags") or []
    if not (
        isinstance(meta, dict)
        and isinstance(headers, list)
        and all(isinstance(h, list) and len(h) == 2 for h in headers)
        and isinstance(body, bytes)
        and isinstance(encoding, str)
        and webencodings.lookup(encoding) is not None
        and type(priority) is int
        and abs(priority) < MAX_PRIORITY
        and isinstance(flags, list)
        and isinstance(d.get("cb_kwargs") or {}, dict)
        and isinstance(d.get("cookies") or {}, dict | list)
    ):
        raise EntryRefused("bad field")
    if not all(_counter(meta[key]) for key in COUNTER_META & meta.keys()):
        raise EntryRefused("bad counter")
    callback, errback = _method_name(spider, d.get("callback")), _method_name(spider, d.get("errback"))
    try:
        return Request(
            d["url"],
            callback=getattr(spider, callback) if callback else None,
            errback=getattr(spider, errback) if errback else None,
            method=method,
            headers=headers,
            body=body,
            cookies=d.get("cookies") or {},
            meta={k: v for k, v in meta.items() if k not in BOUND_META},
            encoding=encoding,
            priority=priority,
            dont_filter=bool(d.get("dont_filter")),
            flags=[str(f) for f in flags],
            cb_kwargs=d.get("cb_kwargs") or {},
        )
    except (TypeError, ValueError, AttributeError, UnicodeError):
        raise EntryRefused("not a request") from None


class SharedPriorityQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis' priority queue (a sorted set, popped atomically) with JSON entries; a refused
    entry is dropped and the next one popped."""

    def _encode_request(self, request: Request) -> bytes:
        return encode(request, self.spider)

    def _decode_request(self, encoded_request: bytes) -> Request:
        return decode(encoded_request, self.spider)

    def pop(self, timeout: int = 0) -> Request | None:
        while True:
            try:
                return super().pop(timeout)
            except EntryRefused as refused:
                stats = getattr(getattr(self.spider, "crawler", None), "stats", None)
                if stats is not None:
                    stats.inc_value(REFUSED_STAT)
                    stats.inc_value(f"{FAILURE_KEY}{refused}")
                log.warning(
                    "shared queue entry refused: %s", visible(str(refused)), extra={"queue": self.key}
                )
