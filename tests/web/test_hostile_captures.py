"""A capture whose body is a decompression bomb: officers get a clear refusal, the server keeps its memory.

A site can answer with a few megabytes of gzip that inflate to gigabytes. The scanner records the
exchange as received (evidence first) and refuses to decode it; the review UI's text and raw views
decoded the whole record into memory.
"""

from __future__ import annotations

import tracemalloc
import zlib

import brotli
import pytest
from backports import zstd
from fastapi.testclient import TestClient

from scanner.evidence.recorder import EvidenceRecorder
from scanner.review.captures import CaptureUnavailable, capture_body
from scanner.store.models import Capture, utcnow
from scanner.web import create_app
from tests.web.reviewkit import Seeded, login

INFLATED = 128 * 1024 * 1024


def _bomb(encoding: str) -> bytes:
    """gzip (~130 KB), brotli (~300 bytes) or zstd of INFLATED zero bytes, made without holding them."""
    chunk = bytes(1024 * 1024)
    if encoding == "zstd":
        packer = zstd.ZstdCompressor()
        return b"".join(packer.compress(chunk) for _ in range(INFLATED // len(chunk))) + packer.flush()
    if encoding == "br":
        packer = brotli.Compressor(quality=5)
        return b"".join(packer.process(chunk) for _ in range(INFLATED // len(chunk))) + packer.finish()
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(packer.compress(chunk) for _ in range(INFLATED // len(chunk))) + packer.flush()


def _record_bomb(seeded: Seeded, encoding: str = "gzip") -> Capture:
    body = _bomb(encoding)
    with EvidenceRecorder(seeded.engine, seeded.config.data_dir, 10**8) as recorder:
        return recorder.record(
            method="GET", url="http://bomb.test/", request_headers=[("User-Agent", "pkscan-test")],
            request_body=None, final_url="http://bomb.test/", status=200, reason="OK",
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", encoding),
                              ("Content-Length", str(len(body)))],
            body=body, fetched_at=utcnow(), remote_ip="127.0.0.1",
        )  # fmt: skip


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_bomb_capture_is_refused_with_its_cause_not_inflated(seeded: Seeded, encoding: str) -> None:
    """brotli: warcio inflated each 16 KB block of input whole, and this whole bomb is one block."""
    capture = _record_bomb(seeded, encoding)
    with pytest.raises(CaptureUnavailable, match="decoded body larger than 1048576 bytes"):
        capture_body(seeded.config.data_dir, capture, 1024 * 1024)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    tracemalloc.start()
    try:
        page = client.get(f"/review/captures/{capture.id}")
        raw = client.get(f"/review/captures/{capture.id}/raw")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert page.status_code == 200
    assert "decoded body larger than 10485760 bytes" in page.text
    assert raw.status_code == 404
    assert "decoded body larger than 10485760 bytes" in raw.text
    assert peak < INFLATED // 2, f"peak {peak / 1e6:.0f} MB while showing a capture"
    # the capture's own page still opens for a normal capture
    assert client.get(f"/review/captures/{seeded.captures['fastcoin']}").status_code == 200


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_a_brotli_or_zstd_capture_is_shown_to_officers(seeded: Seeded, encoding: str) -> None:
    """Sites answer in brotli or zstd whenever the crawl offers them (Scrapy does), and the capture
    keeps the body as received. warcio's brotli reader failed to start with this brotli module
    (``'brotli.Decompressor' object has no attribute 'unused_data'``): the officers' text and raw views
    of every brotli capture were a 500. warcio knows no zstd: the views showed the compressed bytes."""
    offer = "Buy USDT with JazzCash, " * 3  # repeated: compressed, it is no longer in the bytes as such
    page = f"<html><body><p>{offer * 40}</p></body></html>".encode()
    body = brotli.compress(page) if encoding == "br" else zstd.compress(page)
    with EvidenceRecorder(seeded.engine, seeded.config.data_dir, 10**8) as recorder:
        capture = recorder.record(
            method="GET", url="http://br.test/", request_headers=[], request_body=None, final_url="http://br.test/",
            status=200, reason="OK", response_headers=[("Content-Type", "text/html"), ("Content-Encoding", encoding)],
            body=body, fetched_at=utcnow(), remote_ip="127.0.0.1",
        )  # fmt: skip
    client = TestClient(create_app(seeded.config), follow_redirects=False, raise_server_exceptions=False)
    login(client, "alice")
    page = client.get(f"/review/captures/{capture.id}")
    raw = client.get(f"/review/captures/{capture.id}/raw")
    assert page.status_code == 200 and offer.strip() in page.text
    assert raw.status_code == 200 and offer.encode() in raw.content


def _record(seeded: Seeded, body: bytes, encoding: str) -> Capture:
    with EvidenceRecorder(seeded.engine, seeded.config.data_dir, 10**8) as recorder:
        return recorder.record(
            method="GET", url="http://stacked.test/", request_headers=[("User-Agent", "pkscan-test")],
            request_body=None, final_url="http://stacked.test/", status=200, reason="OK",
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", encoding)],
            body=body, fetched_at=utcnow(), remote_ip="127.0.0.1",
        )  # fmt: skip


def test_a_capture_in_stacked_codings_is_shown_as_the_crawl_judged_it(seeded: Seeded) -> None:
    """``Content-Encoding: gzip, br`` (or ``gzip, gzip``): browsers and the crawl undo both, last
    applied first, and judged the page; the officers' views took the coding for one they did not know
    and showed the compressed bytes. A stack of layers is bounded in all, as in the crawl."""
    page = b"<html><body><p>Buy USDT with JazzCash at 281 PKR</p></body></html>"
    once = zlib.compressobj(9, zlib.DEFLATED, 31)
    stacked = brotli.compress(once.compress(page) + once.flush())
    capture = _record(seeded, stacked, "gzip, br")
    assert capture_body(seeded.config.data_dir, capture, 1 << 20) == page
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    assert "Buy USDT with JazzCash" in client.get(f"/review/captures/{capture.id}").text
    # 40 layers of stored gzip around 1 MiB: 40 MiB of inflating, refused beyond 4x the limit in all.
    layered = bytes(1 << 20)
    for _ in range(40):
        packer = zlib.compressobj(0, zlib.DEFLATED, 31)
        layered = packer.compress(layered) + packer.flush()
    capture = _record(seeded, layered, ", ".join(["gzip"] * 40))
    with pytest.raises(
        CaptureUnavailable, match=f"content codings decode to more than {4 << 21} bytes in all"
    ):
        capture_body(seeded.config.data_dir, capture, 2 << 20)
