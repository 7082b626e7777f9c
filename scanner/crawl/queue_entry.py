"""A crawl request as a queue entry (JSON) and back, checked: what the crawl's queues hold is data.

Two queues hold the crawl's pending requests outside the process: the shared queue in Redis
(`scanner.ops.sharedqueue`, written by every worker and by anyone who can reach the Redis server) and
the job directory's disk queue (`scanner.crawl.queues`, read again when a paused crawl resumes).
Scrapy and scrapy-redis store a pickle of each request and unpickle whatever they read back: one
forged entry runs code in the crawler. Here an entry is JSON (bytes as ``{"$b": base64}``) and is read
back only into a plain Scrapy ``GET`` ``Request``: no class named by the entry is loaded, a callback
must be one of the spider's own public methods, and only the meta keys this crawl's own requests carry
into a queue are kept (`KEPT_META`): what would pick the route or the bounds of a download
(``proxy``, ``download_maxsize``, ``download_slot``, ``allow_offsite`` ...) or what the evidence
records about it (``vantage_country``) is set again by the crawl's own middlewares, never read from
an entry. Counts that bound a crawl (depth, retries, redirects) must be small non-negative integers.
`admit` then checks the request as a link on a crawled page is checked: the egress policy's URL check
and the spider's own scope (its ``rescope``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import scrapy
import webencodings
from scrapy import Request, Spider

from scanner.net.egress import EgressPolicy, EgressRefused
from scanner.printable import visible

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
KEPT_HEADERS = frozenset({"referer", b"referer"})
MAX_COUNTER = 1000
MAX_PRIORITY = 2**31
# A request of this crawl is a URL and a few short fields (~1 KB); browsers stop at 2 MB URLs.
MAX_ENTRY_BYTES = 4 << 20


class EntryRefused(ValueError):
    """A queue entry that is not a request this crawl wrote."""


def _tagged(value: Any) -> Any:
    """``json.dumps``' hook for what JSON has no type for: bytes as ``{"$b": base64}``."""
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    raise TypeError(type(value).__name__)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, default=_tagged)
    except (TypeError, ValueError):
        return False
    return True


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$b" in obj:
        try:
            return base64.b64decode(obj["$b"], validate=True)
        except (TypeError, binascii.Error):
            raise EntryRefused("bad bytes") from None
    return obj


def encode(request: Request, spider: Spider) -> bytes:
    """A request as a queue entry: the fields `decode` reads (the meta keys `KEPT_META`, the headers
    `KEPT_HEADERS`; a value JSON cannot hold is left out)."""
    d = request.to_dict(spider=spider)
    d.pop("_class", None)  # only plain Requests are read back; the crawl makes no other kind
    d["headers"] = [[name, values] for name, values in d["headers"].items() if name.lower() in KEPT_HEADERS]
    d["meta"] = {key: value for key, value in d["meta"].items() if key in KEPT_META}
    try:
        return json.dumps(d, separators=(",", ":"), default=_tagged).encode()
    except (TypeError, ValueError):
        d["meta"] = {key: value for key, value in d["meta"].items() if _jsonable(value)}
        return json.dumps(d, separators=(",", ":"), default=_tagged).encode()


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
            headers=[h for h in headers if isinstance(h[0], str | bytes) and h[0].lower() in KEPT_HEADERS],
            meta=kept_meta,
            encoding=encoding,
            priority=priority,
            dont_filter=bool(d.get("dont_filter")),
            flags=[str(f) for f in flags],
        )
    except (TypeError, ValueError, AttributeError, UnicodeError):
        raise EntryRefused("not a request") from None


def admit(request: Request, spider: Spider, policy: EgressPolicy | None) -> None:
    """`EntryRefused` unless ``request`` is one the spider could have made from a crawled link: a URL
    the egress policy fetches (unless ``policy`` is None: the egress middleware checks it anyway, and
    counts it per host), within the spider's scope (`rescope`, which also sets the meta it derives
    from its targets)."""
    if policy is not None:
        try:
            policy.check_url(request.url)
        except EgressRefused as refused:
            raise EntryRefused(f"egress refused ({refused.reason})") from None
    rescope = getattr(spider, "rescope", None)
    problem = rescope(request) if rescope is not None else "the spider cannot check queued requests"
    if problem:
        raise EntryRefused(problem)


def described(entry: bytes) -> str:
    """The URL an entry names, printable and short, for a log line (or what the entry is)."""
    try:
        url = json.loads(entry).get("url")
    except (ValueError, RecursionError, AttributeError):
        url = None
    if not isinstance(url, str):
        return f"an entry of {len(entry)} bytes"
    return visible(url if len(url) <= 300 else f"{url[:300]}…")


def spider_policy(spider: Spider) -> EgressPolicy:
    """The egress policy of the spider's config (the crawl's), for `admit`."""
    egress = getattr(getattr(getattr(spider, "config", None), "settings", None), "egress", None)
    return EgressPolicy.from_settings(egress) if egress is not None else EgressPolicy()
