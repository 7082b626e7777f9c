"""Fixtures for the operations tests: a config dir per test, its database, and a small web server."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.store.db import open_store

REPO_ROOT = Path(__file__).resolve().parents[2]

# A page detection flags: crypto trading, aimed at Pakistan, not licensed.
FLAGGED_PAGE = (
    "<html lang=en><body><h1>Trade Bitcoin and USDT</h1><p>Deposit PKR via JazzCash, Easypaisa or Raast. "
    "Pakistan's fastest crypto exchange.</p><a href=/p2p>P2P</a></body></html>"
)

TARGETS = """\
sites: []
discovery: {enabled: false}
pollers: []
"""


@dataclass
class OpsSetup:
    config_dir: Path
    data_dir: Path
    env: dict[str, str]
    config: Config
    engine: Engine


def write_config(config_dir: Path, targets: str = TARGETS, scheduler: str = "", http: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.yaml").write_text(
        f"inherit: {REPO_ROOT / 'config'}\n"
        # A reverify of /slow must outlast the scheduler tests' steps on a loaded machine: 90 s deadline.
        f"http: {{timeout_seconds: 90, retries: 0, obey_robots: false{http}}}\n"
        f"scheduler: {{run_timeout_seconds: 60{scheduler}}}\n"
        # The test servers and the simulated web's proxy are on loopback: a lab network, as configured.
        "egress: {allow_networks: [127.0.0.1/32], proxy_networks: [127.0.0.1/32]}\n"
    )
    (config_dir / "targets.yaml").write_text(targets)
    (config_dir / "schedules.yaml").write_text('groups: {hourly: "15 * * * *", daily: "0 1 * * *"}\n')


@pytest.fixture
def ops(tmp_path: Path) -> OpsSetup:
    config_dir, data_dir = tmp_path / "config", tmp_path / "data"
    write_config(config_dir)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        SCANNER_CONFIG_DIR=str(config_dir),
        SCANNER_DATA_DIR=str(data_dir),
        SCANNER_DATABASE_URL=f"sqlite:///{data_dir / 'pkscan.sqlite3'}",
        SCANNER_LOG_LEVEL="INFO",
    )
    config = Config(env=env)
    return OpsSetup(config_dir, data_dir, env, config, open_store(config))


@dataclass
class Site:
    """A real HTTP server whose pages a test can change; /slow never answers until the test ends."""

    port: int
    pages: dict[str, tuple[int, str]] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/slow"):
                state.release.wait(120)
                return
            status, body = state.pages.get(self.path, (404, "not found"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@functools.cache
def _rules() -> tuple[Any, Any]:
    from scanner.detection import load_lexicons

    config = Config(REPO_ROOT / "config")
    return load_lexicons(config.lexicon_dir), config.register


def seed_confirmed(engine: Engine, key: str, pages: dict[str, str], status: str = "published") -> int:
    """A confirmed, blocklisted finding whose analysed pages had ``pages`` (url -> HTML) as content."""
    from sqlmodel import Session

    from scanner.detection import Document, analyze
    from scanner.findings.store import refresh_finding
    from scanner.store.models import BlocklistEntry, PageAnalysis, Platform, Publication, utcnow

    with Session(engine) as session:
        platform = Platform(key=key, name=key)
        session.add(platform)
        session.flush()
        for url, html in pages.items():
            analysis = analyze(Document(url, "text/html; charset=utf-8", html.encode()), *_rules())
            session.add(PageAnalysis(platform_id=platform.id, url=url, verdict=analysis.verdict, score=analysis.score,
                                     content_digest=analysis.content_digest, analysis=analysis.to_json()))
        session.flush()
        # Judged the way a crawl judges it; then the officers confirmed it.
        finding = refresh_finding(session, platform.id, *_rules(), run_id=None)
        finding.status = status
        session.add(finding)
        publication = Publication(adds=1)
        session.add(publication)
        session.flush()
        session.add(BlocklistEntry(entry_id=f"e-{key}", type="domain", value=key, platform_id=platform.id,
                                   finding_id=finding.id, first_seen=utcnow(), version_added=publication.version))
        session.commit()
        return finding.id


@pytest.fixture
def world(ops: OpsSetup) -> Iterator[object]:
    """The simulated web, with the ops subprocess environment pointed at it through its proxy."""
    from scanner.world import start_world

    with start_world(sprawl_pages=200) as running:
        ops.env.update(
            HTTP_PROXY=running.proxy_url, http_proxy=running.proxy_url, PKSCAN_DEMO_PK_EXIT=running.pk_exit_url
        )
        yield running
