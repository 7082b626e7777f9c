"""Review workspace test kit: a real config dir, SQLite store, WARC captures and seeded findings.

Findings are seeded through the ORM and decisions only through the real decision service; captures
are real WARC records written with warcio into the test's data dir.
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.evidence.recorder import EvidenceRecorder
from scanner.runs import finish_run, start_run
from scanner.store.db import open_store, session_scope
from scanner.store.models import (
    Capture,
    Finding,
    FindingEvent,
    P2PAd,
    Platform,
    PlatformDomain,
    PollSnapshot,
    Signal,
    User,
    utcnow,
)
from scanner.web.security.passwords import hash_password

PASSWORD = "correct horse battery"
SCRIPT_PAGE = (
    "<!doctype html><html><head><title>FastCoin PK</title>"
    "<script>document.title='PWNED'; window.pwned = 1;</script></head>"
    "<body><h1>FastCoin</h1><p>Buy USDT in Pakistan. Deposit PKR with JazzCash instantly!</p>"
    "<p>Easypaisa bhi chalta hai &lt;b&gt;not bold&lt;/b&gt;</p>"
    "<img src=x onerror=\"window.pwned = 2\"></body></html>"
)


@functools.cache
def password_hash() -> str:
    # Argon2 is deliberately slow; one hash serves every seeded user.
    return hash_password(PASSWORD)


def make_config(
    tmp_path: Path,
    two_person_rule: bool = True,
    attempts: int = 5,
    database_url: str | None = None,
    review: str = "",
) -> Config:
    """``review``: more ``review:`` settings as YAML lines (e.g. ``"  dispute_answer_days: 2\n"``)."""
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "settings.yaml").write_text(
        "review:\n"
        f"  two_person_rule: {str(two_person_rule).lower()}\n"
        f"  login_attempts_per_minute: {attempts}\n"
        f"{review}"
        # TestClient's host, and loopback for the real uvicorn servers of the browser tests
        "web:\n  allowed_hosts: [testserver, 127.0.0.1, localhost]\n"
    )
    env = {"SCANNER_DATA_DIR": str(tmp_path / "data")}
    if database_url:
        env["SCANNER_DATABASE_URL"] = database_url
    return Config(config_dir, env=env)


class WarcLog:
    """Records exchanges through the real evidence recorder (WARC file + hash-chained Capture rows)."""

    def __init__(self, config: Config, engine: Engine):
        self.recorder = EvidenceRecorder(engine, config.data_dir, config.settings.warc_max_bytes)

    def write(self, url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> Capture:
        return self.recorder.record(
            method="GET",
            url=url,
            request_headers=[("User-Agent", "pkscan-test")],
            request_body=None,
            final_url=url,
            status=200,
            reason="OK",
            response_headers=[("Content-Type", content_type), ("Content-Length", str(len(body)))],
            body=body,
            fetched_at=utcnow(),
            remote_ip="127.0.0.1",
        )


@dataclass
class Seeded:
    config: Config
    engine: Engine
    findings: dict[str, int] = field(default_factory=dict)
    captures: dict[str, int] = field(default_factory=dict)


def _platform(session, key: str, **kwargs) -> Platform:  # type: ignore[no-untyped-def]
    platform = Platform(key=key, name=kwargs.pop("name", key.split(".")[0].title()), **kwargs)
    session.add(platform)
    session.flush()
    session.add(PlatformDomain(platform_id=platform.id, value=key))
    return platform


def seed(config: Config) -> Seeded:
    engine = open_store(config)
    seeded = Seeded(config, engine)
    warc = WarcLog(config, engine)
    now = utcnow()
    # Captures first: the recorder appends to the chain in its own transaction.
    fast_capture = warc.write("http://fastcoin.test/", SCRIPT_PAGE.encode())
    slow_body = b"<html><body>Crypto khareedein, rupay mein</body></html>"
    slow_capture_id = warc.write("http://slowex.test/", slow_body).id
    with session_scope(engine) as session:
        for name, role in (("alice", "officer"), ("bob", "officer"), ("root", "admin")):
            session.add(User(username=name, password_hash=password_hash(), role=role))

        fast = _platform(session, "fastcoin.test", name="FastCoin")
        session.add(PlatformDomain(platform_id=fast.id, value="fastcoin-pk.test", kind="mirror"))
        capture = session.get(Capture, fast_capture.id)
        assert capture is not None
        capture.platform_id = fast.id
        session.flush()
        finding = Finding(
            platform_id=fast.id,
            verdict="flag",
            score=0.92,
            crypto_service=True,
            targets_pakistan=True,
            licensed=False,
            first_seen=now - timedelta(days=3),
            last_seen=now,
            sightings=2,
            content_digest=capture.body_sha256,
            explanation={
                "crypto_service": ["offers USDT trading"],
                "targets_pakistan": ["PKR deposits via JazzCash"],
                "licensed": ["fastcoin.test is not on the licensed register"],
            },
        )
        session.add(finding)
        session.flush()
        for kind, value, snippet in (
            ("payment_rail", "JazzCash", "Deposit PKR with JazzCash instantly"),
            ("currency", "PKR", "Deposit PKR"),
            ("roman_urdu", "bhi chalta hai", "Easypaisa bhi chalta hai <b>not bold</b>"),
        ):
            session.add(
                Signal(finding_id=finding.id, capture_id=capture.id, kind=kind, value=value, snippet=snippet, weight=0.3)
            )
        session.add(FindingEvent(finding_id=finding.id, capture_id=capture.id, kind="first", at=now - timedelta(days=3), score=0.8, verdict="flag"))
        session.add(FindingEvent(finding_id=finding.id, capture_id=capture.id, kind="sighting", at=now, score=0.92, verdict="flag"))
        seeded.findings["fastcoin"] = finding.id or 0
        seeded.captures["fastcoin"] = capture.id or 0

        slow = _platform(session, "slowex.test")
        slow_capture = session.get(Capture, slow_capture_id)
        assert slow_capture is not None
        slow_capture.platform_id = slow.id
        session.flush()
        slow_finding = Finding(
            platform_id=slow.id, verdict="flag", score=0.55, crypto_service=True, targets_pakistan=True,
            first_seen=now - timedelta(days=40), last_seen=now - timedelta(days=30),
        )
        session.add(slow_finding)
        session.flush()
        session.add(Signal(finding_id=slow_finding.id, capture_id=slow_capture.id, kind="urdu_term", value="khareedein", snippet="Crypto khareedein"))
        seeded.findings["slowex"] = slow_finding.id or 0

        licensed = _platform(session, "licensedex.test")
        lic_finding = Finding(
            platform_id=licensed.id, verdict="clear", score=0.2, crypto_service=True, targets_pakistan=True,
            licensed=True, licence_status="licensed",
        )
        session.add(lic_finding)
        session.flush()
        seeded.findings["licensedex"] = lic_finding.id or 0

        p2p = _platform(session, "p2pbig.test")
        p2p_finding = Finding(platform_id=p2p.id, verdict="flag", score=0.75, crypto_service=True, targets_pakistan=True)
        session.add(p2p_finding)
        session.flush()
        snapshot = PollSnapshot(
            adapter="binance_p2p", platform_id=p2p.id, fiat="PKR", asset="USDT", ads=12, merchants=7,
            median_price=289.5, available_fiat=2_500_000,
            rails={"jazzcash": {"ads": 8, "merchants": 5, "available_fiat": 1_800_000.0, "median_price": 289.0, "pakistani": True},
                   "easypaisa": {"ads": 4, "merchants": 3, "available_fiat": 700_000.0, "median_price": 290.0, "pakistani": True}},
        )
        session.add(snapshot)
        session.flush()
        session.add(P2PAd(snapshot_id=snapshot.id, ad_id="a1", side="sell", asset="USDT", fiat="PKR", price=289.0, payment_methods=["jazzcash"]))
        seeded.findings["p2pbig"] = p2p_finding.id or 0

    running = start_run(engine, "crawl", "exchanges", trigger="test")
    done = start_run(engine, "poll", "binance_p2p", trigger="test")
    finish_run(engine, done, "ok", pages=3, items=12)
    seeded.captures["running_run"] = running
    return seeded


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` under a real uvicorn on a free loopback port; yields its base URL.

    uvicorn trusts X-Forwarded-For from 127.0.0.1 (its default), so a test can speak from another address.
    """
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns a CSRF token for later posts."""
    page = client.get("/review/login")
    response = client.post(
        "/review/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/review/").text)


def flagged_findings(config: Config, officers: tuple[str, ...], keys: list[str]) -> list[int]:
    """Officer accounts and one flagged, undecided finding per platform key (ids in key order), each
    with a real capture (the publication gates publish nothing without verified evidence)."""
    engine = open_store(config)
    warc = WarcLog(config, engine)
    captures = [warc.write(f"http://{key}/", b"<html><body>Buy USDT with PKR</body></html>") for key in keys]
    with session_scope(engine) as session:
        for name in officers:
            session.add(User(username=name, password_hash="-", role="officer"))
        ids = []
        for key, capture in zip(keys, captures, strict=True):
            platform = Platform(key=key)
            session.add(platform)
            session.flush()
            row = session.get(Capture, capture.id)
            row.platform_id = platform.id
            session.add(row)
            finding = Finding(platform_id=platform.id or 0, verdict="flag", score=0.9)
            session.add(finding)
            session.flush()
            ids.append(finding.id or 0)
    return ids


# The demo's largest finding (rupee-exchange.test after `scanner demo`, 2026-12-06): its signals as
# {kind: [(value, weight, captures)]}, each value found once in each of that many of 18 captures;
# 348 signal rows in 43 (kind, value) groups. Before grouping its page was 41,310 px tall.
DEMO_CAPTURES = 18
DEMO_LARGEST_FINDING: dict[str, list[tuple[str, float, int]]] = {
    "pk_locale": [("og:locale=en_PK", 1.0, 18), ("lang=ur", 0.8, 18), ("hreflang=ur-PK", 0.6, 18), ("/ur/", 0.25, 18)],
    "pk_app_store": [("apps.apple.com/pk/", 0.8, 18), ("play.google.com/store/apps/details?id=com.rupeex.app&gl=PK", 0.8, 18)],
    "urdu_script": [("Urdu", 0.8, 4)],
    "payment_rail": [("Easypaisa", 0.7, 18), ("JazzCash", 0.7, 18)],
    "crypto_service": [
        ("buy bitcoin", 0.5, 18), ("buy crypto", 0.5, 18), ("spot trading", 0.5, 4), ("24h change", 0.5, 2),
        ("24h volume", 0.5, 2), ("crypto exchange", 0.5, 2), ("last price", 0.5, 2), ("open an account", 0.5, 2),
        ("کرپٹو خریدیں", 0.4, 18), ("خریدیں", 0.4, 2), ("ڈپازٹ", 0.4, 2), ("deposit", 0.2, 18), ("log in", 0.2, 18),
        ("markets", 0.2, 18), ("wallet", 0.2, 18), ("withdrawal", 0.2, 2),
    ],
    "trading_pair": [("BTC/ETH", 0.4, 2), ("BTC/USDT", 0.4, 2), ("ETH/USDT", 0.4, 2), ("SOL/USDT", 0.4, 2)],
    "urdu_crypto_term": [("بٹ کوائن", 0.35, 2), ("ٹیتھر", 0.35, 2)],
    "pkr_amount": [("Rs 500,", 0.3, 4), ("Rs 20", 0.3, 2), ("Rs 250,000", 0.3, 2)],
    "crypto_asset": [
        ("USDT", 0.2, 18), ("BTC", 0.2, 2), ("ETH", 0.2, 2), ("SOL", 0.2, 2), ("asset field BTC", 0.2, 2),
        ("asset field ETH", 0.2, 2), ("asset field SOL", 0.2, 2), ("crypto", 0.2, 2), ("ethereum", 0.2, 2),
    ],
}  # fmt: skip


def seed_demo_sized(seeded: Seeded) -> int:
    """A finding shaped like the demo's largest one (real WARC captures); returns its id."""
    warc = WarcLog(seeded.config, seeded.engine)
    start = utcnow() - timedelta(days=DEMO_CAPTURES)
    paths = ["", "markets", "fees", "ur/", "sitemap", "p2p", "about", "help"]
    captures = [
        warc.write(f"http://rupee-exchange.test/{paths[n % len(paths)]}?v={n}", b"<html><body>Rupee Exchange</body></html>")
        for n in range(DEMO_CAPTURES)
    ]
    with session_scope(seeded.engine) as session:
        platform = _platform(session, "rupee-exchange.test", name="RupeeX")
        session.add(PlatformDomain(platform_id=platform.id, value="rupeex-mirror.test", kind="mirror"))
        for n, capture in enumerate(captures):
            row = session.get(Capture, capture.id)
            assert row is not None
            row.platform_id, row.fetched_at = platform.id, start + timedelta(days=n)
        finding = Finding(
            platform_id=platform.id or 0, verdict="flag", score=0.87, crypto_service=True, targets_pakistan=True,
            first_seen=start, last_seen=utcnow(), sightings=DEMO_CAPTURES,
            explanation={
                "crypto_service": ["yes: crypto strength 4.35 (threshold 1.2)", *[f"for: crypto_service 'reason {n}'" for n in range(8)]],
                "targets_pakistan": ["yes: Pakistan strength 8.54 (threshold 1)", *[f"for: pk_locale 'reason {n}'" for n in range(8)]],
                "licensed": ["no: platform not on the licensed register"],
                "verdict": ["flag: offers a crypto service, targets Pakistan and is not licensed"],
            },
        )  # fmt: skip
        session.add(finding)
        session.flush()
        for kind, values in DEMO_LARGEST_FINDING.items():
            for value, weight, count in values:
                for capture in captures[:count]:
                    session.add(Signal(finding_id=finding.id, capture_id=capture.id, kind=kind, value=value,
                                       snippet=f"… {value} …", locator="/html/body/main/p[1]", weight=weight))  # fmt: skip
        for n, capture in enumerate(captures):
            kind = "first" if n == 0 else "sighting"
            session.add(FindingEvent(finding_id=finding.id, capture_id=capture.id, kind=kind,
                                     at=start + timedelta(days=n), score=0.87, verdict="flag"))  # fmt: skip
        return finding.id or 0


def record_render_of(seeded: Seeded, key: str) -> tuple[Capture, Capture]:
    """A rendering (DOM + screenshot, `tests.evidence.test_render_records`) of the seeded capture of
    ``key``, given that capture's platform; returns (the page's capture, the RENDER capture)."""
    from tests.evidence.test_render_records import DOM, PNG

    with session_scope(seeded.engine) as session:
        page = session.get(Capture, seeded.captures[key])
        assert page is not None
    with EvidenceRecorder(seeded.engine, seeded.config.data_dir, 10**8) as recorder:
        render = recorder.record_render(
            url=page.url, final_url=page.url, status=200, refers_to=page.record_id, refers_to_date=page.fetched_at,
            dom=DOM, screenshot=PNG, rendered_at=utcnow(),
        )  # fmt: skip
    with session_scope(seeded.engine) as session:
        row = session.get(Capture, render.id)
        assert row is not None
        row.platform_id = page.platform_id
        session.add(row)
    return page, render
