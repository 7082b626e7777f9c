"""Content codings as browsers and the crawl read them, within bounds, in both HTTP stacks.

Browsers (and Scrapy, in the crawl) undo br and zstd whoever asked for them, undo stacked codings
(``gzip, gzip``) last applied first, and show a body in a coding they do not know as it is. The
pollers' client (`scanner reverify`, `scanner analyze`, the pollers, the renderer's subrequests)
refused all of these as "unsupported content-encoding": a confirmed site answering in br, whatever
it was asked, made every re-verification say "platform offline" (officers then see the site as gone)
and `analyze` fail, while every visitor read the offer. Stacked codings are also a bomb of their
own: each layer is bounded by ``max_response_bytes`` but not their number, so 40 layers of stored
gzip around 1 MiB cost 40 MiB of inflating (and the crawl decodes them in the reactor thread; a
head of 256 KiB can name 50,000 layers)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from sqlmodel import Session, select

from scanner.config import Config
from scanner.net.http import EgressClient, decode_body
from scanner.store.models import Capture, Finding, Platform, Run

from .conftest import CODINGS, Hostile, coded, crawl_site, hostile_env, write_config

MAX = 6 * 1024 * 1024  # the test config's max_response_bytes


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return Config(env=hostile_env(write_config(tmp_path / "config"), tmp_path / "data"))


@pytest.mark.parametrize("name", sorted(CODINGS))
def test_the_client_reads_every_coding_a_browser_reads(name: str, config: Config, hostile: Hostile) -> None:
    with EgressClient(config.settings) as client:
        exchange = client.fetch("GET", hostile.url(f"/coding/{name}"))
    assert exchange.header("content-encoding") == CODINGS[name]  # the evidence keeps what was sent
    assert b"JazzCash" in exchange.decoded(MAX)


def test_stacked_codings_are_decoded_last_applied_first_each_bounded() -> None:
    page = b"<p>buy USDT</p>" * 100
    assert decode_body(coded(page, "gzip, br, zstd"), "GZIP ,br,  zstd", MAX) == page
    assert decode_body(coded(page, "gzip"), "x-unknown, gzip", MAX) == page  # as the crawl: kept
    assert decode_body(page, "identity", MAX) == page
    bomb = coded(bytes(64 << 20), "gzip, gzip")  # 64 MiB inside, a few KB outside
    with pytest.raises(ValueError, match=f"decoded body larger than {MAX} bytes"):
        decode_body(bomb, "gzip, gzip", MAX)


def test_layers_of_codings_are_bounded_in_all() -> None:
    body = os.urandom(1 << 20)
    for _ in range(40):
        body = coded(body, "gzip-stored")
    started = time.process_time()
    with pytest.raises(ValueError, match=f"content codings decode to more than {4 * MAX} bytes in all"):
        decode_body(body, ", ".join(["gzip"] * 40), MAX)
    assert time.process_time() - started < 1.0


def test_the_crawl_refuses_layers_of_codings_beyond_the_bound() -> None:
    from scrapy.utils.test import get_crawler

    from scanner.crawl.compression import BoundedCompressionMiddleware

    body = os.urandom(1 << 20)
    for _ in range(40):
        body = coded(body, "gzip-stored")
    middleware = BoundedCompressionMiddleware.from_crawler(
        get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": MAX})
    )
    request = Request("https://x.test/")
    response = Response(
        request.url, body=body, headers={"Content-Encoding": ", ".join(["gzip"] * 40)}, request=request
    )
    with pytest.raises(IgnoreRequest, match=f"content codings decode to more than {4 * MAX} bytes in all"):
        middleware.process_response(request, response)
    two = coded(b"<p>buy USDT</p>", "gzip, gzip")
    decoded = middleware.process_response(
        request, response.replace(body=two, headers={"Content-Encoding": "gzip, gzip"})
    )
    assert decoded.body == b"<p>buy USDT</p>"


def test_the_crawl_reads_every_coding_and_names_the_layers_it_refuses(
    hostile: Hostile, tmp_path: Path
) -> None:
    engine, _ = crawl_site(hostile, tmp_path, [f"/coding/{name}" for name in [*sorted(CODINGS), "layers"]])
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captured = {c.url for c in session.exec(select(Capture))}
        platform = session.exec(select(Platform).where(Platform.key == "hostile.test")).one()
        finding = session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()
    assert {hostile.url(f"/coding/{name}") for name in CODINGS} <= captured
    assert hostile.url("/coding/layers") in captured  # evidence as received, not judged
    summary = run.error_summary.splitlines()
    assert (
        f"www.hostile.test: 1x response content codings decode to more than {4 * MAX} bytes in all" in summary
    )
    assert finding.verdict == "flag"
