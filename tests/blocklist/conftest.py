"""Fixtures for the feed tests: a real SQLite store seeded through the ORM, a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from blocklist.publish import sync
from blocklist.web import FeedContext, create_app
from scanner.config import Config
from scanner.evidence.recorder import EvidenceRecorder
from scanner.store.db import open_store
from scanner.store.models import Capture, Decision, Finding, Platform, PlatformDomain, PollSnapshot

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_config(tmp_path: Path, requests_per_minute: int = 1000) -> Config:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "settings.yaml").write_text(
        "feed:\n"
        "  publisher_name: Test Regulator\n"
        f"  requests_per_minute: {requests_per_minute}\n"
        "  rpz_zone: rpz.test.pk\n"
    )
    return Config(config_dir, env={"SCANNER_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def engine(config: Config) -> Any:
    return open_store(config)


class Seeder:
    """Adds platforms and findings the way the crawler and the decision service leave them."""

    def __init__(self, engine: Any, config: Config):
        self.engine = engine
        self.config = config
        self.seq = 0
        self.recorder = EvidenceRecorder(engine, config.data_dir, config.settings.warc_max_bytes)

    def platform(
        self,
        key: str,
        status: str = "published",
        domains: tuple[str, ...] = (),
        score: float = 0.9,
        kind: str = "domain",
        capture: bool = True,
    ) -> tuple[int, int]:
        # first: the recorder appends to the chain in its own transaction (SQLite has one writer)
        recorded = self.capture(key) if capture else None
        with Session(self.engine) as session:
            platform = Platform(key=key, kind=kind, first_seen=T0)
            session.add(platform)
            session.flush()
            for value in domains:
                session.add(PlatformDomain(platform_id=platform.id, value=value, kind="mirror", first_seen=T0))
            finding = Finding(platform_id=platform.id, verdict="flag", score=score, status=status, first_seen=T0)
            session.add(finding)
            session.flush()
            session.add(Decision(finding_id=finding.id, seq=1, action="confirm", reason=f"confirmed {key}", by_user="amina"))
            session.add(Decision(finding_id=finding.id, seq=2, action="approve", reason="second look", by_user="bilal"))
            if recorded is not None:
                row = session.get(Capture, recorded.id)
                row.platform_id = platform.id  # not chained: detection assigns it after the capture
                session.add(row)
            session.commit()
            return platform.id, finding.id

    def capture(self, key: str) -> Capture:
        """A real capture of the platform's home page: WARC record and hash-chained row."""
        self.seq += 1
        body = f"<html><body>{key} buy USDT with PKR</body></html>".encode()
        return self.recorder.record(
            method="GET", url=f"https://{key}/", request_headers=[("User-Agent", "pkscan-test")],
            request_body=None, final_url=f"https://{key}/", status=200, reason="OK",
            response_headers=[("Content-Type", "text/html")], body=body,
            fetched_at=T0 + timedelta(minutes=self.seq), remote_ip="127.0.0.1",
        )  # fmt: skip

    def set_status(self, finding_id: int, status: str, action: str, reason: str) -> None:
        with Session(self.engine) as session:
            finding = session.get(Finding, finding_id)
            finding.status = status
            session.add(finding)
            seq = len(session.exec(select(Decision.id).where(Decision.finding_id == finding_id)).all()) + 1
            session.add(Decision(finding_id=finding_id, seq=seq, action=action, reason=reason, by_user="bilal"))
            session.commit()

    def snapshot(self, platform_id: int, rails: dict[str, Any], taken_at: datetime = T0) -> None:
        with Session(self.engine) as session:
            session.add(PollSnapshot(adapter="binance", platform_id=platform_id, fiat="PKR", asset="USDT",
                                     taken_at=taken_at, ads=sum(r["ads"] for r in rails.values()), rails=rails))
            session.commit()

    def sync(self) -> int | None:
        with Session(self.engine) as session:
            publication = sync(session, self.config)
            session.commit()
            return publication.version if publication else None


@pytest.fixture
def seed(engine: Any, config: Config) -> Seeder:
    return Seeder(engine, config)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: Any) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def server(config: Config) -> Callable[..., Iterator[str]]:
    """Start the feed app on 127.0.0.1 (optionally with another config); yields the base URL."""
    started: list[Iterator[str]] = []

    def start(cfg: Config = config) -> str:
        gen = serve(create_app(FeedContext.from_config(cfg)))
        started.append(gen)
        return next(gen)

    yield start  # type: ignore[misc]
    for gen in started:
        next(gen, None)
