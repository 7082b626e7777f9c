"""Scale-out through Redis: what the shared queue and the workers' hash hold is data from whoever can
write to the Redis server, never code, and never a way past the egress policy or the crawl's bounds.

Each test crawls the hostile web with ``REDIS_URL`` set, after writing into the crawl's Redis keys
what another program might have: a pickle that runs code when unpickled, bytes that are no request,
requests naming a class or a method of their own choice, requests for local files and the internal
canary, a request lifting the size cap and the deadline for an endless body, and heartbeats that are
not timestamps. A live idle "worker" is registered first, so the crawl joins (keeps) that queue.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlmodel import Session, select

from scanner.ops.scaleout import MAX_WORKERS
from scanner.store.models import Capture, Run

from .conftest import CORPUS, HOSTILE_IP, Hostile, _Server, crawl_site

CRAWL_ID = "hostile-queue"
PREFIX = f"pkscan:{CRAWL_ID}:site"


def _entry(url: str, callback: str = "parse", **fields: Any) -> bytes:
    """A queue entry as a worker of this crawl writes it (JSON; bytes as {"$b": base64})."""
    meta = {"target": "hostile", "vantage": None, **fields.pop("meta", {})}
    d = {"url": url, "callback": callback, "errback": "failed", "headers": [], "method": "GET",
         "body": {"$b": ""}, "cookies": {}, "meta": meta, "encoding": "utf-8", "priority": 0,
         "dont_filter": False, "flags": [], "cb_kwargs": {}, **fields}  # fmt: skip
    return json.dumps(d).encode()


class _RunsCode:
    """Unpickling this makes a directory: what a ZADD from anyone who reaches Redis could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def _seed(client: redis.Redis, entries: list[bytes], workers: dict[bytes, bytes] | None = None) -> None:
    # Another worker of the crawl, alive and idle: the crawl joins its queue instead of clearing it.
    client.hset(
        f"{PREFIX}:workers", mapping={b"other-machine:1": f"idle {time.time()}".encode(), **(workers or {})}
    )
    for score, entry in enumerate(entries):
        client.execute_command("ZADD", f"{PREFIX}:requests", -100 + score, entry)


def _crawl(
    hostile: Hostile, tmp_path: Path, redis_url: str, exit_code: int = 0, **env: str
) -> tuple[list[str], Run]:
    urls, run, _ = _crawl_captures(hostile, tmp_path, redis_url, exit_code, **env)
    return urls, run


def _crawl_captures(
    hostile: Hostile, tmp_path: Path, redis_url: str, exit_code: int = 0, **env: str
) -> tuple[list[str], Run, dict[str, Capture]]:
    engine, _ = crawl_site(
        hostile,
        tmp_path,
        ["/clear?from=seed"],
        extra_env={"REDIS_URL": redis_url, "SCANNER_CRAWL_ID": CRAWL_ID, **env},
        exit_code=exit_code,
    )
    with Session(engine) as session:
        captures = list(session.exec(select(Capture)))
        run = session.exec(select(Run).where(Run.kind == "crawl")).one()
    return [c.url for c in captures], run, {c.url: c for c in captures}


def _crawl_meddled(
    hostile: Hostile,
    tmp_path: Path,
    redis_url: str,
    meddle: Callable[[threading.Event], None],
    exit_code: int = 0,
    **env: str,
) -> tuple[list[str], Run]:
    """`_crawl`, with ``meddle(stop)`` writing to Redis from a thread meanwhile (until ``stop`` is set)."""
    stop = threading.Event()
    meddler = threading.Thread(target=meddle, args=(stop,), daemon=True)
    meddler.start()
    try:
        return _crawl(hostile, tmp_path, redis_url, exit_code, **env)
    finally:
        stop.set()
        meddler.join()


@pytest.mark.redis
def test_shared_queue_entries_are_data_checked_when_read(
    hostile: Hostile, tmp_path: Path, redis_url: str
) -> None:
    marker = tmp_path / "code-ran"
    cp = hostile.canary.port
    internal = [f"http://127.0.0.1:{cp}/queued", f"http://[::ffff:127.0.0.1]:{cp}/queued",
                f"http://2130706433:{cp}/queued", f"http://rebind.hostile.test:{cp}/queued",
                "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"]  # fmt: skip
    entries = [
        pickle.dumps({"url": hostile.url("/clear?from=pickle"), "code": _RunsCode(marker)}),
        b"\x80\x04not a request at all\xff",
        _entry(hostile.url("/clear?from=class"), _class="scanner.ops.scaleout.SharedCrawlScheduler"),
        _entry(hostile.url("/clear?from=init"), callback="__init__"),
        _entry(hostile.url("/clear?from=close"), callback="close"),
        _entry(hostile.url("/clear?from=depth"), meta={"depth": -1_000_000}),
        _entry(
            hostile.url("/clear?from=redirects"), meta={"redirect_times": -(10**9), "redirect_ttl": 10**9}
        ),
        b'{"url": ' * 100_000,
        # Well-formed: fetched within the crawl's bounds (the endless body ends at the size cap).
        _entry(hostile.url("/endless"), meta={"download_maxsize": 0, "download_timeout": 10**6}),
        *(_entry(url) for url in internal),
        _entry(hostile.url("/clear?from=queue")),  # another worker's page: crawled here
    ]
    client = redis.Redis.from_url(redis_url)
    _seed(client, entries)

    urls, run = _crawl(hostile, tmp_path, redis_url)

    assert not marker.exists(), "an entry in the shared queue ran code in the crawler"
    assert hostile.canary.hits == []
    assert hostile.url("/clear?from=queue") in urls and hostile.url("/clear?from=seed") in urls
    assert not [u for u in urls if "from=" in u and not u.endswith(("=queue", "=seed"))], urls
    assert not [u for u in urls if u in internal]
    assert run.status == "ok", run.error_summary
    summary = run.error_summary
    for why, count in {
        "not JSON": 3,
        "names a class": 1,
        "callback is not the spider's": 2,
        "bad counter": 2,
        "egress refused (loopback)": 3,
        "egress refused (link-local)": 1,
        "egress refused (scheme)": 1,
    }.items():
        assert f"shared queue: {count}x entry refused: {why}" in summary, summary
    assert "egress refused" in summary  # rebind.hostile.test: refused when resolved
    # Cancelled at the size cap (a lifted cap and deadline would have read it for ever).
    assert run.stats.get("downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError") == 1
    assert client.zcard(f"{PREFIX}:requests") == 0, "every entry was read and dropped"


@pytest.mark.redis
def test_workers_hash_written_by_something_else(hostile: Hostile, tmp_path: Path, redis_url: str) -> None:
    """Heartbeats that are no timestamp, names that are no UTF-8, a "busy" worker stamped far in the
    future (it would hold the crawl open for ever): the crawl runs and closes."""
    client = redis.Redis.from_url(redis_url)
    workers = {b"junk:1": b"busy not-a-time", b"\xff\xfe:2": b"\xffbusy", b"empty:3": b"",
               b"future:4": b"busy 9e18", b"nan:5": b"busy nan", b"inf:6": b"busy -inf"}  # fmt: skip
    _seed(client, [_entry(hostile.url("/clear?from=queue"))], workers)

    urls, run = _crawl(hostile, tmp_path, redis_url)

    assert hostile.url("/clear?from=queue") in urls and hostile.url("/clear?from=seed") in urls
    assert run.status == "ok", run.error_summary


class _ForgingProxy:
    """An HTTP proxy on the lab network (allowed like the hostile web) that answers every request
    itself with a flagged page: were a crawl to go through it, the evidence would hold its page
    under the site's URL (over HTTPS too: Scrapy does not verify certificates)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        page = (CORPUS / "p01_en_exchange_jazzcash.html").read_bytes()
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server((HOSTILE_IP, 0), Handler)
        self.url = f"http://{HOSTILE_IP}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def forging_proxy() -> Iterator[_ForgingProxy]:
    proxy = _ForgingProxy()
    yield proxy
    proxy.server.shutdown()


@pytest.mark.redis
def test_queued_requests_are_rescoped_and_refused_entries_kept(
    hostile: Hostile, tmp_path: Path, redis_url: str, forging_proxy: _ForgingProxy
) -> None:
    """Well-formed entries that no worker of this crawl writes: a URL outside the target's domains
    marked ``dont_filter`` (Scrapy's offsite check lets those pass), a route through another proxy,
    meta the evidence records (``vantage_country``, ``capture_id``), another target, a vantage point the target does not have,
    a POST, cookies, and an entry of 5 MiB. None is fetched as it asks; each refused one is named and
    kept in the crawl's dead-letter list (the oversized one in Redis, never read by the crawler)."""
    offsite = (
        f"http://{HOSTILE_IP}:{hostile.port}/clear?from=offsite"  # the same server, not the target's name
    )
    oversized = _entry(hostile.url("/clear?from=oversized&pad=" + "a" * (5 << 20)))
    entries = [
        _entry(offsite, dont_filter=True),
        _entry(hostile.url("/clear?from=proxied"), meta={"proxy": forging_proxy.url}),
        _entry(hostile.url("/clear?from=country"), meta={"vantage_country": "pk", "capture_id": 1}),
        _entry(hostile.url("/clear?from=other-target"), meta={"target": "someone-else"}),
        _entry(hostile.url("/clear?from=vantage"), meta={"vantage": "pk"}),
        _entry(
            hostile.url("/clear?from=post"), method="POST", body={"$b": base64.b64encode(b"a=1").decode()}
        ),
        _entry(hostile.url("/clear?from=cookies"), cookies={"country": "PK"}),
        oversized,
    ]
    client = redis.Redis.from_url(redis_url)
    _seed(client, entries)

    urls, run, captures = _crawl_captures(hostile, tmp_path, redis_url)

    assert forging_proxy.hits == [], "a queue entry chose the proxy the crawl went through"
    assert offsite not in urls
    assert not [u for u in urls if "from=" in u and u.split("from=")[1].split("&")[0] not in
                ("seed", "proxied", "country")], urls  # fmt: skip
    assert (
        captures[hostile.url("/clear?from=proxied")].remote_ip == HOSTILE_IP
    )  # fetched from the site itself
    assert run.status == "ok", run.error_summary
    summary = run.error_summary
    for why in ("outside the crawl's domains", "target not crawled here", "not a vantage point of the target",
                "not a GET without a body", "cookies or callback arguments", "larger than 4194304 bytes"):  # fmt: skip
        assert f"shared queue: 1x entry refused: {why}" in summary, summary
    dead_key = f"{PREFIX}:deadletter"
    assert f"shared queue: 6x refused entries kept in Redis list {dead_key}" in summary, summary
    kept = [json.loads(r) for r in client.lrange(dead_key, 0, -1)]
    assert len(kept) == 6
    by_reason = {r["reason"]: r for r in kept}
    assert base64.b64decode(by_reason["outside the crawl's domains"]["entry"]) == entries[0]
    assert by_reason["target not crawled here"]["what"] == hostile.url("/clear?from=other-target")
    big = by_reason["larger than 4194304 bytes"]
    assert client.get(big["kept_in"]) == oversized and "entry" not in big


@pytest.mark.redis
def test_crawl_keys_of_another_type_are_moved_aside(hostile: Hostile, tmp_path: Path, redis_url: str) -> None:
    """The crawl's keys holding strings (anyone's SET, or a stray tool): scrapy-redis' ZADD and ZCARD,
    the duplicate filter's SADD and the workers' HGETALL answered WRONGTYPE and the crawl did not run.
    Each is moved aside, kept and named; the crawl runs."""
    client = redis.Redis.from_url(redis_url)
    names = {"requests": "zset", "dupefilter": "set", "workers": "hash", "counts": "hash"}
    junk = {f"{PREFIX}:{name}": f"not a {name}".encode() for name in names}
    for key, value in junk.items():
        client.set(key, value)

    urls, run = _crawl(hostile, tmp_path, redis_url)

    assert hostile.url("/clear?from=seed") in urls
    assert run.status == "ok", run.error_summary
    for name, kind in names.items():
        assert (
            f"shared queue: 1x entry refused: the {name} key held a string, not a {kind}" in run.error_summary
        )
    records = map(json.loads, client.lrange(f"{PREFIX}:deadletter", 0, -1))
    assert {r["what"]: client.get(r["kept_in"]) for r in records} == junk


@pytest.mark.redis
def test_a_forged_busy_worker_does_not_hold_the_crawl_open(
    hostile: Hostile, tmp_path: Path, redis_url: str
) -> None:
    """A "busy" heartbeat refreshed every second by someone who can write to Redis (no worker at all)
    held every idle worker open for as long as it went on. A worker now waits for busy peers that queue
    nothing at most SCANNER_PEER_WAIT_SECONDS (600 by default), and says so."""
    client = redis.Redis.from_url(redis_url)
    _seed(client, [])

    def forge(stop: threading.Event) -> None:
        while not stop.is_set():
            client.hset(f"{PREFIX}:workers", "forged:1", f"busy {time.time()}")
            stop.wait(1.0)

    urls, run = _crawl_meddled(hostile, tmp_path, redis_url, forge, SCANNER_PEER_WAIT_SECONDS="3")

    assert hostile.url("/clear?from=seed") in urls
    assert run.status == "ok", run.error_summary
    assert (
        "shared queue: 1x closed after waiting 3 s for busy workers that queued nothing" in run.error_summary
    )


@pytest.mark.redis
def test_a_queue_deleted_in_redis_is_said_not_lost_silently(
    hostile: Hostile, tmp_path: Path, redis_url: str
) -> None:
    """Another worker queued 300 pages, then the queue's key went (a DEL by anyone, or an eviction under
    maxmemory) while this worker crawled: the run ended ok, as if those pages had been crawled. It is
    now degraded, saying how many queued requests vanished."""
    client = redis.Redis.from_url(redis_url)
    entries = [_entry(hostile.url(f"/clear?from=queued-{i}")) for i in range(300)]
    _seed(client, entries)
    client.hset(f"{PREFIX}:counts", "queued", len(entries))  # as the other worker's pushes counted them

    def drop_when_crawling(stop: threading.Event) -> None:
        while not stop.is_set():
            if client.hlen(f"{PREFIX}:workers") > 1:  # this crawl's worker joined: pages are being taken
                stop.wait(0.3)
                client.delete(f"{PREFIX}:requests")
                return
            stop.wait(0.01)

    urls, run = _crawl_meddled(hostile, tmp_path, redis_url, drop_when_crawling, exit_code=3)  # 3: degraded

    crawled = sum("from=queued-" in u for u in urls)
    assert 0 < crawled < 300, crawled
    assert run.status == "degraded", run.error_summary
    # Its own seed was queued too (301 in all), and may have gone with the rest.
    lost = 301 - crawled - (hostile.url("/clear?from=seed") in urls)
    assert f"{lost} requests vanished from the shared queue in Redis" in run.error_summary, run.error_summary


def _fingerprint(url: str) -> str:
    """scrapy-redis' fingerprint of a GET of ``url``: a SHA-1 anyone can compute for any URL."""
    from scrapy import Request
    from scrapy_redis.dupefilter import RFPDupeFilter

    return RFPDupeFilter(None, "any").request_fingerprint(Request(url))


@pytest.mark.redis
def test_duplicate_filter_entries_written_by_anyone_else_skip_no_page(
    hostile: Hostile, tmp_path: Path, redis_url: str
) -> None:
    """The duplicate filter's set held fingerprints anyone can compute: one ``SADD`` of the seed's made
    the crawl skip it without a word (the crawl fetched nothing of the site), and entries another
    crawl wrote counted here too. Entries are now signed with the deployment's key for this crawl
    (`scanner.crawl.dupefilter`): forged or foreign ones match nothing, so the pages are fetched. A key
    check that is not this worker's (another key, or rewritten) is named in the summary."""
    from scanner.crawl.dupefilter import Signer, state_key

    seed, queued = hostile.url("/clear?from=seed"), hostile.url("/clear?from=queue")
    client = redis.Redis.from_url(redis_url)
    _seed(client, [_entry(queued)])
    # What this deployment's crawl of another target (or under another crawl id) writes for the page.
    other_crawl = Signer(state_key(tmp_path / "data"), "pkscan:another-crawl:site:hostile")
    client.sadd(
        f"{PREFIX}:dupefilter",
        _fingerprint(seed),
        other_crawl.sign(_fingerprint(seed).encode()).hex(),
        *(os.urandom(16).hex() for _ in range(100)),
    )
    client.set(f"{PREFIX}:keycheck", "0" * 32)

    urls, run = _crawl(hostile, tmp_path, redis_url)

    assert seed in urls, "a forged duplicate-filter entry made the crawl skip its seed"
    assert queued in urls
    assert run.status == "ok", run.error_summary
    assert (
        "shared queue: 1x the duplicate filter is signed with another key by this crawl's other workers"
        f" (SCANNER_STATE_KEY differs between them, or {PREFIX}:keycheck was rewritten)" in run.error_summary
    ), run.error_summary


@pytest.mark.redis
def test_crawl_keys_turned_into_another_type_mid_crawl(
    hostile: Hostile, tmp_path: Path, redis_url: str
) -> None:
    """The duplicate filter, the workers' heartbeats and the queue's counts set to strings while the crawl
    runs (anyone's ``SET``): every heartbeat and every pop answered WRONGTYPE and the crawl never finished
    (its requests failed one after another). Each key is moved aside, kept and named; the crawl goes on
    and fetches every queued page; the counts being gone, the run says the queue's state was lost."""
    client = redis.Redis.from_url(redis_url)
    entries = [_entry(hostile.url(f"/clear?from=queued-{i}")) for i in range(120)]
    _seed(client, entries)
    client.hset(f"{PREFIX}:counts", "queued", len(entries))
    keys = {name: f"{PREFIX}:{name}" for name in ("dupefilter", "workers", "counts")}

    def retype_when_crawling(stop: threading.Event) -> None:
        while not stop.is_set():
            counts = client.hgetall(keys["counts"])
            # The crawl's seed queued (121) and a few pages taken: the crawl is under way.
            if int(counts.get(b"queued", 0)) > 120 and int(counts.get(b"taken", 0)) >= 5:
                with client.pipeline() as pipe:  # at once (MULTI): no worker sees half of it
                    for name, key in keys.items():
                        pipe.set(key, f"not a {name}")
                    pipe.execute()
                return
            stop.wait(0.01)

    urls, run = _crawl_meddled(hostile, tmp_path, redis_url, retype_when_crawling, exit_code=3)  # degraded

    assert sum("from=queued-" in u for u in urls) == 120
    assert run.status == "degraded", run.error_summary
    summary = run.error_summary
    assert "the shared queue's state was lost in Redis" in summary, summary
    for name, kind in (("dupefilter", "set"), ("workers", "hash"), ("counts", "hash")):
        assert f"entry refused: the {name} key held a string, not a {kind}" in summary, summary
    kept = {r["what"]: r["kept_in"] for r in map(json.loads, client.lrange(f"{PREFIX}:deadletter", 0, -1))}
    assert client.get(kept[keys["counts"]]) == b"not a counts"


@pytest.mark.redis
def test_duplicate_filter_key_of_another_type_is_moved_aside_when_used(redis_url: str) -> None:
    """The crawl's duplicate filter (`scanner.ops.scaleout.SignedDupeFilter`) on a key that became a
    string: the SADD of every new request answered WRONGTYPE, so each link the crawl found failed. The
    key is moved aside, named in the dead-letter list, and the request is new (fetched, not skipped)."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from scanner.crawl.dupefilter import Signer
    from scanner.ops.scaleout import SignedDupeFilter

    client = redis.Redis.from_url(redis_url)
    prefix = "pkscan:retyped:site:x"
    stats = get_crawler().stats
    dupes = SignedDupeFilter(client, f"{prefix}:dupefilter", Signer(b"k" * 32, prefix), prefix, stats)
    assert not dupes.request_seen(Request("https://x.test/a"))
    client.set(f"{prefix}:dupefilter", "junk")

    assert not dupes.request_seen(Request("https://x.test/b"))
    assert dupes.request_seen(Request("https://x.test/b"))
    (record,) = map(json.loads, client.lrange(f"{prefix}:deadletter", 0, -1))
    assert record["reason"] == "the dupefilter key held a string, not a set"
    assert client.get(record["kept_in"]) == b"junk"
    assert (
        stats.get_value(
            "pkscan/failure/shared queue/entry refused: the dupefilter key held a string, not a set"
        )
        == 1
    )


@pytest.mark.redis
@pytest.mark.parametrize("value", [b"not a count", b"9" * 5000], ids=["text", "digits"])
def test_queue_counts_that_are_no_counts_do_not_stop_the_crawl(
    hostile: Hostile, tmp_path: Path, redis_url: str, value: bytes
) -> None:
    """The queue's counts hash holding a value that is no count (anyone's ``HSET <prefix>:counts taken
    x``, or 5,000 digits): Redis refused the scripts' ``HINCRBY`` ("hash value is not an integer"), so
    every push and pop failed and the crawl fetched nothing; and 5,000 digits are more than Python's
    int() reads (ValueError when the crawl ends). The counts are set aside as a key of another type
    is: the crawl fetches every page, and says its queue's state was lost (it cannot tell whether
    entries vanished)."""
    client = redis.Redis.from_url(redis_url)
    entries = [_entry(hostile.url(f"/clear?from=queued-{i}")) for i in range(20)]
    _seed(client, entries)
    client.hset(f"{PREFIX}:counts", mapping={"queued": value, "taken": value})
    urls, run = _crawl(hostile, tmp_path, redis_url, exit_code=3)
    assert sum("from=queued-" in u for u in urls) == 20 and hostile.url("/clear?from=seed") in urls
    assert run.status == "degraded" and "the shared queue's state was lost in Redis" in run.error_summary, (
        run.error_summary
    )
    records = [json.loads(r) for r in client.lrange(f"{PREFIX}:deadletter", 0, -1)]
    kept = [r["kept_in"] for r in records if r.get("kept_in")]
    assert any(client.type(key) == b"hash" and client.hget(key, "taken") == value for key in kept), records


@pytest.mark.redis
def test_a_workers_hash_of_forged_heartbeats_is_moved_aside(hostile: Hostile, tmp_path: Path, redis_url: str) -> None:
    """200,000 heartbeats written by someone who reaches Redis: every idle worker read all of them twice
    a second (~1 s of CPU a read). A hash longer than any crawl's workers is moved aside, kept and named."""
    client = redis.Redis.from_url(redis_url)
    forged = 200_000
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, forged, 20_000):
            pipe.hset(f"{PREFIX}:workers", mapping={f"forged:{n}": f"busy {time.time()}" for n in range(start, start + 20_000)})
        pipe.execute()
    urls, run = _crawl(hostile, tmp_path, redis_url)
    assert hostile.url("/clear?from=seed") in urls
    assert f"the workers key held more than {MAX_WORKERS} heartbeats" in run.error_summary, run.error_summary
    records = [json.loads(r) for r in client.lrange(f"{PREFIX}:deadletter", 0, -1)]
    kept = [r["kept_in"] for r in records if "heartbeats" in r.get("reason", "")]
    assert kept and client.hlen(kept[0]) >= forged
