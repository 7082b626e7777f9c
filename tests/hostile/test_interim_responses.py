"""Interim (1xx) responses before the final one: browsers and Twisted read past them to the page; the
requests-based client (pollers, `scanner reverify`, `scanner analyze`) must too, and within the
crawl's head limits however many a server sends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.config import Config
from scanner.net.head import too_many_fields
from scanner.net.http import EgressClient, FetchError
from scanner.store.models import Capture, Finding, Platform, Run

from .conftest import TIMEOUT, Hostile, crawl_site, hostile_env, write_config


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return Config(env=hostile_env(write_config(tmp_path / "config"), tmp_path / "data"))


def test_the_client_reads_past_interim_responses_to_the_page(config: Config, hostile: Hostile) -> None:
    """http.client skips 100 Continue only: a 102 or 103 before the page was taken for the answer (an
    empty body), so `scanner analyze` cleared a flagged site and `reverify` saw its page "changed"
    to nothing, while every visitor and the crawl got the page."""
    with EgressClient(config.settings) as client:
        exchange = client.fetch("GET", hostile.url("/interim/hints"))
    assert exchange.status == 200
    assert b"JazzCash" in exchange.body and exchange.header("content-type").startswith("text/html")


def test_endless_interim_responses_are_refused_within_the_head_limits(
    config: Config, hostile: Hostile
) -> None:
    """The interim heads together have the limits of one head (the crawl counts them too): an endless
    stream of them took the whole deadline, a core busy parsing them. (This one's fields, one in two
    heads, reach the limit of 1,000 before its bytes reach 256 KiB.)"""
    started = time.monotonic()
    with EgressClient(config.settings) as client, pytest.raises(FetchError) as raised:
        client.fetch("GET", hostile.url("/interim/flood"))
    assert (raised.value.problem, raised.value.retryable) == (too_many_fields(), False)
    assert time.monotonic() - started < TIMEOUT / 2


def test_the_crawl_reads_past_interim_responses_and_bounds_them(hostile: Hostile, tmp_path: Path) -> None:
    """Twisted ignores 1xx responses and its parser keeps counting their bytes (`scanner.crawl.download`):
    the page after them is captured and judged, an endless stream of them is refused."""
    engine, _ = crawl_site(hostile, tmp_path, ["/interim/hints", "/interim/flood"])
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captures = {c.url: c for c in session.exec(select(Capture))}
        platform = session.exec(select(Platform).where(Platform.key == "hostile.test")).one()
        finding = session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()
    assert captures[hostile.url("/interim/hints")].status == 200
    assert hostile.url("/interim/flood") not in captures
    assert f"www.hostile.test: 1x {too_many_fields()}" in run.error_summary.splitlines(), run.error_summary
    assert finding.verdict == "flag"
