from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from scanner.evidence import EvidenceRecorder
from scanner.store.db import make_engine, upgrade
from scanner.store.models import Capture, utcnow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def engine(database_url: str) -> Engine:
    """The evidence log on SQLite and on PostgreSQL (when SCANNER_TEST_POSTGRES_URL is set)."""
    engine = make_engine(database_url)
    upgrade(engine)
    return engine


def record_page(recorder: EvidenceRecorder, n: int, body: bytes | None = None) -> Capture:
    url = f"http://exchange.test/p2p/{n}?fiat=PKR"
    return recorder.record(
        method="GET",
        url=url,
        request_headers=[("User-Agent", "pkscan-test"), ("Accept", "text/html")],
        request_body=None,
        final_url=url,
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Server", "sim")],
        body=body if body is not None else f"<html><p>Buy USDT with JazzCash — page {n}</p></html>".encode(),
        fetched_at=utcnow(),
        remote_ip="127.0.0.1",
    )


@pytest.fixture
def recorded(engine: Engine, data_dir: Path) -> Callable[[int], list[Capture]]:
    def make(count: int, warc_max_bytes: int = 10**8) -> list[Capture]:
        with EvidenceRecorder(engine, data_dir, warc_max_bytes, run_id=None) as recorder:
            return [record_page(recorder, n) for n in range(count)]

    return make
