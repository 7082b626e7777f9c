"""Message framing that hurts a client's parser (`FRAMINGS` in the conftest: a chunk-size line, a chunk
extension or a trailer without end, a body of one-byte chunks, endless trailers, a status line without
end, header lines without a colon, a Content-Length beyond any cap), each sent until the client hangs
up, against both HTTP stacks: the requests-based client (pollers, `scanner reverify`, `scanner
analyze`, the renderer's subrequests) and the crawl's Twisted downloader. Each must end within the
total deadline, hold little memory, fail that one response with a reason and go on."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.config import Config
from scanner.net.http import EgressClient, FetchError
from scanner.store.models import Capture, Run

from .conftest import FRAMINGS, TIMEOUT, Hostile, crawl_site, hostile_env, write_config

MAX_PEAK = 16 << 20  # the test config's max_response_bytes is 6 MiB
ENDLESS = sorted(name for name, (_, repeated) in FRAMINGS.items() if repeated)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    folder = tmp_path_factory.mktemp("framing")
    env = hostile_env(write_config(folder / "config"), folder / "data")
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    return Config(env=env)


@pytest.mark.parametrize("framing", ENDLESS)
def test_the_client_ends_each_framing_within_the_deadline_and_little_memory(
    framing: str, config: Config, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    tracemalloc.start()
    try:
        with EgressClient(config.settings) as client, pytest.raises(FetchError) as raised:
            client.fetch("GET", hostile.url(f"/framing/{framing}"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < TIMEOUT + 1.5, raised.value
    assert peak < MAX_PEAK, f"{framing}: {peak >> 20} MiB held ({raised.value})"
    assert raised.value.problem  # named, never a traceback


def test_a_body_of_one_byte_chunks_is_held_once(
    config: Config, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib3 hands each chunk over as it comes: the client kept each one-byte chunk as a bytes object
    in a list (~48 bytes held a byte received: 5.9 MiB for the ~120 KB a loaded host took in 3 s, so
    hundreds of MiB for a 10 MiB body of them within a longer deadline)."""
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    tracemalloc.start()
    try:
        with EgressClient(config.settings) as client:
            exchange = client.fetch("GET", hostile.url("/framing/tiny-chunks-ended"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exchange.body == b"a" * 40_000
    assert peak < 512 << 10, f"{peak >> 10} KiB held for a body of 40 KB"


def test_the_crawl_fails_each_framing_with_a_reason_and_goes_on(hostile: Hostile, tmp_path: Path) -> None:
    started = time.monotonic()
    engine, _ = crawl_site(hostile, tmp_path, [f"/framing/{name}" for name in ENDLESS] + ["/clear"])
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captured = {c.url for c in session.exec(select(Capture))}
    assert time.monotonic() - started < 60
    assert run.errors == len(ENDLESS), run.error_summary
    assert not any("/framing/" in url for url in captured)
    assert hostile.url("/clear") in captured
