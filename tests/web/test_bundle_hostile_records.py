"""Evidence bundles holding what hostile sites sent: a gzip bomb recorded as it came off the wire is
verified without being inflated whole, and the bundle still verifies."""

from __future__ import annotations

import os
import tracemalloc
import zlib
from pathlib import Path

from scanner.review.bundle import build_bundle, verify_bundle
from scanner.store.db import session_scope
from scanner.store.models import Capture, Finding, utcnow
from tests.web.reviewkit import Seeded, WarcLog

INFLATED = 256 * 1024 * 1024


def _gzip_bomb() -> bytes:
    """One gzip member of zeros: about 250 KB recorded, ``INFLATED`` bytes once inflated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * (1 << 20)
    return b"".join(deflate.compress(block) for _ in range(INFLATED >> 20)) + deflate.flush()


def _bundle_holding(
    seeded: Seeded, tmp_path: Path, path: str, headers: list[tuple[str, str]], body: bytes
) -> Path:
    """A bundle of fastcoin's finding with one more capture: ``body`` recorded as sent from ``path``."""
    finding_id = seeded.findings["fastcoin"]
    url = f"http://fastcoin.test{path}"
    capture = WarcLog(seeded.config, seeded.engine).recorder.record(
        method="GET", url=url, request_headers=[], request_body=None, final_url=url, status=200,
        reason="OK", response_headers=headers, body=body, fetched_at=utcnow(), remote_ip=None,
    )  # fmt: skip
    with session_scope(seeded.engine) as session:
        row = session.get(Capture, capture.id)
        row.platform_id = session.get(Finding, finding_id).platform_id  # type: ignore[union-attr]
        session.add(row)
    with session_scope(seeded.engine) as session:
        return build_bundle(session, seeded.config, finding_id, tmp_path / "bundle.zip")


def _verify_traced(bundle: Path) -> tuple[list[str], int]:
    """verify_bundle's problems and the peak of the memory Python allocated while verifying."""
    tracemalloc.start()
    try:
        problems = verify_bundle(bundle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return problems, peak


def test_a_recorded_gzip_bomb_in_a_bundle_is_verified_in_bounded_memory(
    seeded: Seeded, tmp_path: Path
) -> None:
    headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
    bundle = _bundle_holding(seeded, tmp_path, "/bomb", headers, _gzip_bomb())
    problems, peak = _verify_traced(bundle)
    assert problems == []
    # The bundle is a few hundred KB; the body inflates to 256 MB. Before, verification held it whole.
    assert peak < 32 * 1024 * 1024, f"verification held {peak >> 20} MB"


def test_a_large_bundle_is_verified_in_bounded_memory(seeded: Seeded, tmp_path: Path) -> None:
    """A capture of 24 MB that does not compress: verification read the bundle's WARC whole and each
    record's payload whole (~50 MB for this one, as large as the evidence for any bundle); it now
    streams both."""
    headers = [("Content-Type", "application/octet-stream")]
    bundle = _bundle_holding(seeded, tmp_path, "/large", headers, os.urandom(24 << 20))
    assert bundle.stat().st_size > 24 << 20
    problems, peak = _verify_traced(bundle)
    assert problems == []
    assert peak < 16 * 1024 * 1024, f"verification held {peak >> 20} MB"
