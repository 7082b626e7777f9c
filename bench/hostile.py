"""Hostile inputs: CPU seconds of each entry point that reads what a site sends, at two sizes 4x apart.

Run: ``.venv/bin/python bench/hostile.py [--size N] [--only WORD ...] [--timeout S]``. Each family
builds an input of size N and 4N (elements, attributes, candidates, bytes, ...) and feeds it to its
entry point: detection and page identity (`scanner.observation.Rules.observe`: HTML shapes, JSON,
inline state blobs), link extraction, the egress policy, platform keys, the render shell check and
the crawl's response-head parser (`scanner.crawl.download`), the evidence-bundle verifier, the
officers' text view of a capture, content codings (both HTTP stacks) and the shared crawl's Redis keys
(the ``redis`` families need a Redis server: ``BENCH_REDIS_URL``, default db 15 on localhost).
A ratio above ~6 (time quadratic or worse) is flagged ``<<<``; an input that raises is printed with
its exception, one that takes more than ``--timeout`` seconds as TIMEOUT. Times are CPU times of
one run (noisy below ~0.05 s; the flag needs 0.05 s at 4N). What this found and fixed, with
figures: tests/detection/test_hostile_shapes.py, tests/web/test_hostile_captures.py. Known and not
fixed: an element of tens of thousands of attributes costs libxml2's HTML parse time quadratic in
them (``many_attrs``: 0.35 s for 20,000, 8 s for 80,000).
"""

from __future__ import annotations

import argparse
import gzip
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from blocklist.view import feed_text  # noqa: E402
from scanner.config import EgressSettings  # noqa: E402
from scanner.detection import load_lexicons  # noqa: E402
from scanner.detection.platform import platform_key  # noqa: E402
from scanner.names import InvalidName  # noqa: E402
from scanner.names import platform_key as check_platform_key  # noqa: E402
from scanner.net.egress import EgressPolicy, EgressRefused  # noqa: E402
from scanner.net.http import decode_body  # noqa: E402
from scanner.observation import Rules  # noqa: E402
from scanner.printable import visible_json  # noqa: E402
from scanner.render.shell import looks_like_js_shell  # noqa: E402

HTML, JSON = "text/html", "application/json"


def _html(body: str) -> bytes:
    return f"<html><head><title>t</title></head><body>{body}</body></html>".encode()


def _head(head: str) -> bytes:
    return f"<html><head>{head}</head><body>x</body></html>".encode()


def _numbered(template: str, n: int) -> str:
    return "".join(template % (i, i) for i in range(n))


# name -> (content type, make(n) -> body); fed to Rules.observe (detection and page identity)
DOCUMENTS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "deep_div": (HTML, lambda n: _html("<div>" * n + "buy USDT" + "</div>" * n)),
    "deep_div_unclosed": (HTML, lambda n: _html("<div>" * n + "buy USDT")),
    "siblings_p": (HTML, lambda n: _html("<p>x</p>" * n)),
    "siblings_lang": (HTML, lambda n: _html('<span lang="ur">x</span>' * n)),
    "siblings_links": (HTML, lambda n: _html(_numbered('<a href="/p%d">buy usdt JazzCash %d</a>', n))),
    "many_attrs": (HTML, lambda n: _html("<div " + " ".join(f'a{i}="v"' for i in range(n)) + ">x</div>")),
    "giant_attr": (HTML, lambda n: _html('<a title="' + "buy USDT " * n + '">x</a>')),
    "many_meta": (HTML, lambda n: _head('<meta property="og:title" content="buy usdt">' * n)),
    "many_meta_locale": (HTML, lambda n: _head('<meta property="og:locale" content="ur_PK">' * n)),
    "many_canonical": (HTML, lambda n: _head('<link rel="canonical" href="https://y.test/">' * n)),
    "many_titles": (HTML, lambda n: _head("<title>a | b</title>" * n)),
    "long_title": (HTML, lambda n: _head("<title>" + "a | " * n + "</title>")),
    "many_scripts": (HTML, lambda n: _html("<script>var a=1;</script>" * n)),
    "many_state_scripts": (HTML, lambda n: _html('<script>window.__S__={"a":"buy usdt"};</script>' * n)),
    "huge_comment": (HTML, lambda n: _html("<!--" + "x" * (10 * n) + "-->y")),
    "many_comments": (HTML, lambda n: _html("<!--c-->y" * n)),
    "cdata": (HTML, lambda n: _html("<![CDATA[" + "x" * (10 * n) + "]]>")),
    "unclosed_inline": (HTML, lambda n: _html("<b><i><u>" * n)),
    "unclosed_table": (HTML, lambda n: _html("<table><tr><td>" * n)),
    "unclosed_links": (HTML, lambda n: _html("<a href=/x>y" * n)),
    "text_dots": (HTML, lambda n: _html("a." * (5 * n))),
    "text_spaces": (HTML, lambda n: _html(" " * (10 * n) + "x")),
    "text_pkr_amounts": (HTML, lambda n: _html(_numbered("PKR %d USDT/PKR %d ", n))),
    "text_signals": (HTML, lambda n: _html(_numbered("<p>buy USDT with JazzCash %d PKR, +92300%07d</p>", n))),
    "next_data_deep": (
        HTML,
        lambda n: _html(
            '<script id="__NEXT_DATA__" type="application/json">' + "[" * n + "]" * n + "</script>"
        ),
    ),
    "next_data_wide": (
        HTML,
        lambda n: _html(
            '<script id="__NEXT_DATA__" type="application/json">{'
            + ",".join(f'"k{i}":"v"' for i in range(n))
            + "}</script>"
        ),
    ),
    "next_f_push": (HTML, lambda n: _html("<script>" + 'self.__next_f.push([1,"a"]);' * n + "</script>")),
    "next_f_push_open": (HTML, lambda n: _html("<script>" + "self.__next_f.push([" * n + "</script>")),
    "state_open_objects": (HTML, lambda n: _html("<script>" + 'window.__A__={"a":' * n + "</script>")),
    "state_almost_json": (HTML, lambda n: _html("<script>" + ("window.a=[" + "1," * 50) * n + "</script>")),
    "state_json_parse": (
        HTML,
        lambda n: _html("<script>" + "window.a=JSON.parse('" + "window.b=[" * n + "')</script>"),
    ),
    # JSON escapes no database or UTF-8 holds: U+FFFD in the searchable text (scanner.printable.storable)
    "state_lone_surrogates": (
        HTML,
        lambda n: _html('<script>window.__S__={"a":"' + "buy usdt \\ud800\\u0000 " * n + '"};</script>'),
    ),
    "json_lone_surrogates": (JSON, lambda n: ('{"a":"' + "buy usdt \\udc00\\u0000 " * n + '"}').encode()),
    "json_deep_array": (JSON, lambda n: ("[" * n + "]" * n).encode()),
    "json_deep_object": (JSON, lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
    "json_many_keys": (JSON, lambda n: ("{" + ",".join(f'"k{i}":"v{i}"' for i in range(n)) + "}").encode()),
    "json_long_string": (JSON, lambda n: ('{"a":"' + "buy usdt " * n + '"}').encode()),
    "json_escaped_keys": (JSON, lambda n: ("{" + ",".join(f'"a/~{i}":"v"' for i in range(n)) + "}").encode()),
    "json_p2p_ads": (
        JSON,
        lambda n: (
            "[" + ",".join(f'{{"fiat":"PKR","asset":"USDT","price":"{i}"}}' for i in range(n)) + "]"
        ).encode(),
    ),
    "text_plain": ("text/plain", lambda n: ("buy usdt jazzcash " * n).encode()),
    # Charset labels browsers ignore (scanner.detection.document.web_encoding): punycode decoding
    # took time quadratic in the page, then raised; EBCDIC read every page as noise (cleared).
    "charset_punycode": (
        "text/html; charset=punycode",
        lambda n: _html("buy USDT with JazzCash PKR -" + "ab1" * (10 * n)),
    ),
    # Content after </html>: libxml2 dropped it (scanner.markup.keep_after_html_end).
    "after_html_end": (
        HTML,
        lambda n: _html("x") + b"</html>" * n + b"<p>buy USDT with JazzCash PKR</p>" * n,
    ),
    "charset_ebcdic": ("text/html; charset=cp037", lambda n: _html("<p>buy USDT with JazzCash PKR</p>" * n)),
}


def _quietly(check: Callable[[str], Any]) -> Callable[[str], None]:
    def run(value: str) -> None:
        try:
            check(value)
        except (EgressRefused, InvalidName, ValueError):
            pass

    return run


def _links(n: int) -> None:
    """The spiders' link list (`scanner.crawl.links`: Scrapy's LinkExtractor's URLs)."""
    from scrapy.http import HtmlResponse

    from scanner.crawl.links import link_urls

    body = _html(_numbered('<a href="/p%d">x %d</a>', n))
    link_urls(HtmlResponse("https://a.test/", body=body, encoding="utf-8"))


def _response_head(head: bytes) -> str:
    """Feeds a response head to the crawl's HTTP/1.1 client protocol (`scanner.crawl.download`)."""
    from twisted.internet.testing import StringTransport
    from twisted.web._newclient import Request
    from twisted.web.http_headers import Headers

    from scanner.crawl.download import _BoundedHeadProtocol

    protocol = _BoundedHeadProtocol(lambda _p: None, None)
    protocol.makeConnection(StringTransport())
    outcome: list[str] = []
    protocol.request(Request(b"GET", b"/", Headers({b"host": [b"a.test"]}), None)).addCallbacks(
        lambda response: outcome.append(f"accepted, {len(list(response.headers.getAllRawHeaders()))} names"),
        lambda failure: outcome.append(f"refused: {failure.value.reasons[0].value}"),
    )
    for start in range(0, len(head), 65536):  # as the network delivers it
        protocol.dataReceived(head[start : start + 65536])
    return outcome[0] if outcome else "pending"


def _bundle_records(inflated_kb: int, encoding: str = "gzip") -> str:
    """Verifies a WARC holding one gzip (or br) response of ``inflated_kb`` KB of zeros, its decoded
    digest asked for (older bundles, forged ones): `scanner.review.bundle` inflates it a block at a time."""
    import io
    import tempfile
    import zlib
    from datetime import UTC, datetime

    from scanner.evidence.warc import WarcWriter
    from scanner.review.bundle import _warc_records

    if encoding == "br":
        import brotli

        packer = brotli.Compressor(quality=5)
        body = b"".join(packer.process(b"\0" * 1024) for _ in range(inflated_kb)) + packer.finish()
    else:
        deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        body = b"".join(deflate.compress(b"\0" * 1024) for _ in range(inflated_kb)) + deflate.flush()
    with tempfile.TemporaryDirectory() as folder, WarcWriter(folder, 1 << 34) as writer:
        written = writer.write_exchange(
            method="GET", url="https://x.test/", request_headers=[], request_body=None, status=200, reason="OK",
            response_headers=[("Content-Encoding", encoding)], body=body, fetched_at=datetime.now(UTC),
        )  # fmt: skip
        data = (Path(folder) / written.warc_file).read_bytes()[
            written.offset : written.offset + written.length
        ]
    problems: list[str] = []
    records = _warc_records(io.BytesIO(data), problems, wanted=set())  # a stream, as from the zip
    return f"{len(body) >> 10} KB recorded, {len(records)} records, {len(problems)} problems"


def _manifest_bomb(kb: int) -> str:
    """Verifies a forged bundle whose manifest.json is ``kb`` KB of zeros (`scanner.review.bundle`
    reads a member at most `MAX_MANIFEST` far)."""
    import tempfile
    import zipfile

    from scanner.review.bundle import verify_bundle

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "bundle.zip")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("evidence.warc.gz", b"")
            with bundle.open("manifest.json", "w", force_zip64=True) as member:
                for _ in range(kb):
                    member.write(bytes(1024))
        return verify_bundle(path)[0][:60]


def _robots_checks(rules: int) -> str:
    """Parses a robots.txt of ``rules`` wildcard rules as the crawl does (`scanner.crawl.robots`: the
    first 500 KiB) and checks 20 URLs against it."""
    from scanner.crawl.robots import CappedProtegoRobotParser

    body = b"User-agent: *\n" + b"".join(b"Disallow: /*a*b*c%d\n" % i for i in range(rules))
    parser = CappedProtegoRobotParser(body, None)
    allowed = sum(parser.allowed(f"https://x.test/p2p/{i}", "pkscan") for i in range(20))
    return f"{len(body) >> 10} KB, {allowed} of 20 allowed"


def _text_view(body: bytes) -> str:
    """The officers' text view of a capture (`scanner.review.captures.body_text`: BeautifulSoup)."""
    from scanner.review.captures import body_text

    return f"{len(body_text(body, 'text/html'))} characters"


def _queue_entry(entry: bytes) -> str:
    """Reads one entry of the shared Redis queue (`scanner.crawl.queue_entry.decode`) as a worker does."""
    from scrapy import Spider

    from scanner.crawl.queue_entry import EntryRefused, decode

    class _Spider(Spider):
        name = "bench"

        def failed(self, failure: object) -> None:
            pass

    try:
        return f"request, {len(decode(entry, _Spider()).meta)} meta keys"
    except EntryRefused as refused:
        return f"refused: {refused}"


def _job_queue(entries: int) -> str:
    """Reads a paused crawl's queue files through before resuming (`scanner.crawl.jobs.unreadable_queue`):
    ``entries`` requests of which the last one is cut short."""
    import tempfile

    from queuelib.queue import FifoDiskQueue

    from scanner.crawl.jobs import unreadable_queue

    with tempfile.TemporaryDirectory() as job:
        queue = Path(job, "requests.queue")
        fifo = FifoDiskQueue(str(queue / "0"))
        for i in range(entries):
            fifo.push(b'{"url": "https://x.test/p%d", "callback": "parse"}' % i)
        fifo.close()
        (queue / "active.json").write_text("[0]")
        chunk = max(c for c in (queue / "0").glob("q*") if c.stat().st_size)
        chunk.write_bytes(chunk.read_bytes()[:-3])
        return str(unreadable_queue(Path(job))).rsplit("/", 1)[-1]


def _job_seen(records: int) -> str:
    """Reads a paused crawl's ``requests.seen`` through before resuming (`scanner.crawl.dupefilter.seen_problem`):
    ``records`` signed fingerprints, then one of Scrapy's unsigned ones (anyone's)."""
    import tempfile

    from scanner.crawl.dupefilter import seen_problem

    with tempfile.TemporaryDirectory() as job:
        Path(job, "requests.seen").write_bytes((b"\x00\x10" + bytes(16)) * records + b"\x00\x14" + bytes(20))
        return str(seen_problem(Path(job))).rsplit(": ", 1)[-1]


def _cookie_pages(pages: int) -> str:
    """``pages`` responses of one site, each setting 900 new cookies, through the crawl's cookie
    middleware (`scanner.crawl.cookies`), each request getting the jar's Cookie header first."""
    from scrapy import Request
    from scrapy.http import Response

    from scanner.crawl.cookies import BoundedCookiesMiddleware

    middleware = BoundedCookiesMiddleware()
    sent = 0
    for page in range(pages):
        request = Request(f"https://www.x.test/p{page}")
        middleware.process_request(request)
        sent = len(request.headers.get(b"Cookie") or b"")
        cookies = [b"p%dc%d=%s; Path=/" % (page, i, b"v" * 120) for i in range(900)]
        middleware.process_response(
            request, Response(request.url, headers={b"Set-Cookie": cookies}, request=request)
        )
    return f"last Cookie header {sent >> 10} KB"


def _cookie_sites(sites: int) -> str:
    """``sites`` sites, each setting three cookies on its home page, through one cookie jar (a crawl's
    default jar holds every site's cookies)."""
    from scrapy import Request
    from scrapy.http import Response

    from scanner.crawl.cookies import BoundedCookiesMiddleware

    middleware = BoundedCookiesMiddleware()
    for site in range(sites):
        request = Request(f"https://www.s{site}.test/")
        middleware.process_request(request)
        cookies = [b"c%d=v; Path=/" % i for i in range(3)]
        middleware.process_response(
            request, Response(request.url, headers={b"Set-Cookie": cookies}, request=request)
        )
    return f"{sites} sites"


def _redis() -> Any:
    """A Redis server for the ``redis`` families (``BENCH_REDIS_URL``, default db 15 on localhost)."""
    import os

    import redis

    client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    client.ping()
    return client


def _redis_scope(client: Any) -> str:
    """A key prefix of this run's own, emptied first."""
    import os

    prefix = f"pkscan:bench-hostile-{os.getpid()}:site"
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    return prefix


# What anyone who reaches Redis may have written into a shared crawl's queue: no JSON, JSON of the
# wrong shapes and types, a URL the egress policy refuses, deep nesting, a number past int()'s digits.
_JUNK_ENTRIES = (
    b"not json %d", b"[%d]", b'{"url": %d}', b'{"url": "file:///etc/passwd?%d", "callback": "parse"}',
    b'{"url": "http://127.0.0.1/%d", "callback": "parse"}', b'{"url": "https://x.test/%d", "callback": "run"}',
    b'{"url": "https://x.test/%d", "meta": [1]}', b'{"url": "https://x.test/%d", "priority": "high"}',
    b'{"url": "https://x.test/%d", "headers": {"a": 1}}', b'{"url": "https://x.test/%d", "method": "POST"}',
    b"[" * 5000 + b"%d" + b"]" * 5000, b"9" * 5000 + b"%d",
)  # fmt: skip


def _redis_queue_junk(entries: int) -> str:
    """One pop of the shared queue (`scanner.ops.sharedqueue.SharedPriorityQueue`) holding ``entries``
    entries of `_JUNK_ENTRIES`: each is refused and kept in the dead-letter list, and the pop goes on
    to the next (client CPU only; the Redis server is another process)."""
    import logging

    from scrapy import Spider

    from scanner.ops.sharedqueue import SharedPriorityQueue

    class _Spider(Spider):
        name = "bench"

        def failed(self, failure: object) -> None:
            pass

    logging.getLogger("scanner.ops.sharedqueue").setLevel(logging.ERROR)  # a warning an entry
    client = _redis()
    prefix = _redis_scope(client)
    junk = [_JUNK_ENTRIES[i % len(_JUNK_ENTRIES)].replace(b"%d", b"%d" % i) for i in range(entries)]
    for start in range(0, entries, 1000):
        client.zadd(f"{prefix}:requests", {entry: 0 for entry in junk[start : start + 1000]})
    queue = SharedPriorityQueue(client, _Spider(), f"{prefix}:requests")
    try:
        popped = queue.pop()
        return f"{popped}, {client.llen(f'{prefix}:deadletter')} kept in the dead-letter list"
    finally:
        _redis_scope(client)


def _redis_heartbeats(fields: int) -> str:
    """The workers' heartbeats read (`scanner.ops.scaleout.SharedCrawlScheduler._others`) from a hash
    of ``fields`` forged ones: no timestamp, NaN, far future, a long number, a busy one a second old."""
    import time
    from types import SimpleNamespace

    from scanner.ops.scaleout import SharedCrawlScheduler

    client = _redis()
    prefix = _redis_scope(client)
    forged = [b"busy x", b"busy nan", b"busy 1e999", b"idle " + b"9" * 5000, b"busy %f" % time.time()]
    key = f"{prefix}:workers"
    for start in range(0, fields, 1000):
        client.hset(
            key,
            mapping={f"forged:{i}": forged[i % len(forged)] for i in range(start, min(start + 1000, fields))},
        )
    try:
        live = SharedCrawlScheduler._others(SimpleNamespace(worker_id="me"), client.hgetall(key))  # type: ignore[arg-type]
        return f"{len(live)} live of {fields}"
    finally:
        _redis_scope(client)


def _redis_counts(digits: int) -> str:
    """The queue's counts (`SharedPriorityQueue.lost`, when a worker finishes) holding ``digits``-digit
    values, and a pop whose HINCRBY Redis refuses on them (the counts moved aside)."""
    import logging

    from scrapy import Spider

    from scanner.ops.sharedqueue import SharedPriorityQueue

    logging.getLogger("scanner.ops.sharedqueue").setLevel(logging.ERROR)
    client = _redis()
    prefix = _redis_scope(client)
    client.hset(f"{prefix}:counts", mapping={"queued": b"9" * digits, "taken": b"7" * digits})
    client.zadd(f"{prefix}:requests", {b"not json": 0})
    queue = SharedPriorityQueue(client, Spider("bench"), f"{prefix}:requests")
    try:
        queue.pop()
        return str(queue.lost())[:40]
    finally:
        _redis_scope(client)


def _interim_heads(count: int) -> str:
    """A response of ``count`` interim (103) heads before the page, read by the pollers' client's
    response class (`scanner.net.http._FinalResponse`) from memory."""
    import http.client
    import io

    from scanner.net.http import _FinalResponse

    class _Socket:
        def __init__(self, data: bytes):
            self.data = data

        def makefile(self, mode: str) -> io.BufferedReader:
            return io.BufferedReader(io.BytesIO(self.data))

    head = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" * count
    response = _FinalResponse(_Socket(head + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))  # type: ignore[arg-type]
    try:
        response.begin()
        return f"status {response.status}"
    except http.client.HTTPException as exc:
        return f"refused: {exc}"


def _stacked_codings(layers: int, crawl: bool) -> str:
    """``layers`` layers of stored gzip around 64 KiB of noise, undone by the pollers' client
    (`scanner.net.http.decode_body`) or the crawl (`scanner.crawl.compression`), 10 MiB a layer at most."""
    import os
    import zlib

    body = os.urandom(1 << 16)
    for _ in range(layers):
        packer = zlib.compressobj(0, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        body = packer.compress(body) + packer.flush()
    header = ", ".join(["gzip"] * layers)
    try:
        if crawl:
            from scrapy import Request
            from scrapy.http import Response
            from scrapy.utils.test import get_crawler

            from scanner.crawl.compression import BoundedCompressionMiddleware

            middleware = BoundedCompressionMiddleware.from_crawler(
                get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": 10 << 20})
            )
            request = Request("https://x.test/")
            response = Response(request.url, body=body, headers={"Content-Encoding": header}, request=request)
            return f"{len(middleware.process_response(request, response).body)} bytes"
        return f"{len(decode_body(body, header, 10 << 20))} bytes"
    except Exception as exc:  # noqa: BLE001 - the refusal is the outcome
        return f"refused: {str(exc)[:50]}"


_EMPTY_GZIP = gzip.compress(b"")


def _entry(meta: str) -> bytes:
    return b'{"url": "https://x.test/", "callback": "parse", "meta": %s}' % meta.encode()


def _response(lines: bytes) -> bytes:
    """An HTTP response head holding ``lines`` (not `_head`, the HTML head the documents above use)."""
    return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n"


def other_families() -> dict[str, Callable[[int], Any]]:
    egress = _quietly(
        EgressPolicy.from_settings(EgressSettings(), resolver=lambda host: ["93.184.216.34"]).check_url
    )
    names = _quietly(check_platform_key)
    return {
        "platform_key long host": lambda n: platform_key("https://" + "a." * n + "com/"),
        "platform_key long path": lambda n: platform_key("https://a.com/" + "a/" * n),
        "names long host": lambda n: names("a." * n + "com"),
        "egress long host": lambda n: egress("https://" + "a." * n + "com/"),
        "egress long query": lambda n: egress("https://a.com/?" + "a=b&" * n),
        "egress userinfo": lambda n: egress("https://" + "@" * n + "a.com/"),
        "shell many divs": lambda n: looks_like_js_shell(_html("<div>a</div>" * n), 200),
        "shell deep": lambda n: looks_like_js_shell(_html("<div>" * n), 200),
        "link extraction": _links,
        "response head many fields": lambda n: _response_head(
            _response(b"".join(b"X-%d: v\r\n" % i for i in range(n)))
        ),
        "response head folded": lambda n: _response_head(
            _response(b"X-F: a\r\n" + b" bbbbbbbbbbbbbbbbbbb\r\n" * n)
        ),
        "response head long line": lambda n: _response_head(_response(b"X-L: " + b"a" * (4 * n) + b"\r\n")),
        "bundle verify gzip record": lambda n: _bundle_records(10 * n),
        "bundle verify brotli record": lambda n: _bundle_records(10 * n, "br"),
        "bundle manifest zip bomb": lambda n: _manifest_bomb(10 * n),
        "poll answer gzip members": lambda n: len(decode_body(_EMPTY_GZIP * (8 * n), "gzip", 10 << 20)),
        "robots.txt wildcard rules": lambda n: _robots_checks(10 * n),
        "text view unclosed inline": lambda n: _text_view(_html("<b>x" * (10 * n))),
        "text view unclosed table": lambda n: _text_view(_html("<table><tr><td>" * (3 * n))),
        "text view deep div": lambda n: _text_view(_html("<div>" * (10 * n))),
        "queue entry wide meta": lambda n: _queue_entry(
            _entry(json.dumps({f"k{i}": "v" * 8 for i in range(10 * n)}))
        ),
        "queue entry deep meta": lambda n: _queue_entry(_entry("[" * (10 * n) + "]" * (10 * n))),
        "queue entry many bytes": lambda n: _queue_entry(_entry('{"b": {"$b": "%s"}}' % ("QUJD" * (10 * n)))),
        "queue entry many headers": lambda n: _queue_entry(
            b'{"url": "https://x.test/", "headers": %s}'
            % json.dumps([[f"h{i}", ["v"]] for i in range(10 * n)]).encode()
        ),
        "queue entry redirect urls": lambda n: _queue_entry(
            _entry(json.dumps({"redirect_urls": ["https://x.test/"] * min(10 * n, 1000), "pad": "v" * n}))
        ),
        "job queue cut short": lambda n: _job_queue(10 * n),
        "job requests.seen forged": lambda n: _job_seen(100 * n),
        "cookies set on every page": lambda n: _cookie_pages(n // 250),
        "cookies from many sites": lambda n: _cookie_sites(n // 2),
        "feed reason controls": lambda n: len(feed_text("\u202e\x1b[2J\x00" * (10 * n))),
        "client interim heads": lambda n: _interim_heads(n),
        "client stacked codings": lambda n: _stacked_codings(n // 10, crawl=False),
        "crawl stacked codings": lambda n: _stacked_codings(n // 10, crawl=True),
        "redis queue junk entries": lambda n: _redis_queue_junk(n // 5),
        "redis forged heartbeats": lambda n: _redis_heartbeats(10 * n),
        "redis counts of many digits": lambda n: _redis_counts(100 * n),
        "manifest controls": lambda n: len(visible_json(json.dumps({"r": "\u202e\u0628\ud800" * (10 * n)}))),
    }


class _Timeout(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Timeout


def timed(work: Callable[[], Any], timeout: int) -> tuple[float, str]:
    started = time.process_time()
    signal.alarm(timeout)
    try:
        result = work()
        outcome = result if isinstance(result, str) else ""
    except _Timeout:
        outcome = "TIMEOUT"
    except Exception as exc:  # noqa: BLE001 - what an input raises is the finding
        outcome = f"{type(exc).__name__}: {str(exc)[:60]}"
    finally:
        signal.alarm(0)
    return time.process_time() - started, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=5000, help="the smaller size N (default 5000)")
    parser.add_argument("--only", nargs="*", default=[], help="families whose name holds one of these words")
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rules = Rules(load_lexicons(REPO / "config" / "lexicons"), None)

    def observe(content_type: str, body: bytes) -> str:
        seen = rules.observe("https://x.test/", content_type, body)
        return f"{seen.analysis.verdict}, {len(seen.analysis.signals)} signals"

    families: dict[str, Callable[[int], Any]] = {
        name: (lambda n, ct=ct, make=make: observe(ct, make(n))) for name, (ct, make) in DOCUMENTS.items()
    }
    families.update(other_families())
    families["siblings_lang"](10)  # warm up: lexicon automatons are built on first use
    flagged = 0
    for name, family in families.items():
        if args.only and not any(word in name for word in args.only):
            continue
        small, _ = timed(lambda family=family: family(args.size), args.timeout)
        big, outcome = timed(lambda family=family: family(4 * args.size), args.timeout)
        ratio = big / max(small, 1e-3)
        flag = ratio > 6 and big > 0.05 or outcome == "TIMEOUT"
        flagged += flag
        print(
            f"{name:28s} {small:8.3f} s {big:8.3f} s  x{ratio:5.1f}  {outcome}{'  <<<' if flag else ''}",
            flush=True,
        )
    print(f"{flagged} flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
