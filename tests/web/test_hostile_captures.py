"""A capture whose body is a decompression bomb: officers get a clear refusal, the server keeps its memory.

A site can answer with a few megabytes of gzip that inflate to gigabytes. The scanner records the
exchange as received (evidence first) and refuses to decode it; the review UI's text and raw views
decoded the whole record into memory.
"""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
from fastapi.testclient import TestClient

from scanner.evidence.recorder import EvidenceRecorder
from scanner.review.captures import CaptureUnavailable, capture_body
from scanner.store.models import Capture, utcnow
from scanner.web import create_app
from tests.web.reviewkit import Seeded, login

INFLATED = 128 * 1024 * 1024


def _bomb() -> bytes:
    """gzip of INFLATED zero bytes (~130 KB), made without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(INFLATED // len(chunk))) + packer.flush()


def _record_bomb(seeded: Seeded) -> Capture:
    body = _bomb()
    with EvidenceRecorder(seeded.engine, seeded.config.data_dir, 10**8) as recorder:
        return recorder.record(
            method="GET", url="http://bomb.test/", request_headers=[("User-Agent", "pkscan-test")],
            request_body=None, final_url="http://bomb.test/", status=200, reason="OK",
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                              ("Content-Length", str(len(body)))],
            body=body, fetched_at=utcnow(), remote_ip="127.0.0.1",
        )  # fmt: skip


def test_a_gzip_bomb_capture_is_refused_with_its_cause_not_inflated(seeded: Seeded) -> None:
    capture = _record_bomb(seeded)
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
