"""Evidence bundles holding what hostile sites sent: a gzip bomb recorded as it came off the wire is
verified without being inflated whole, and the bundle still verifies."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import brotli

from scanner.review.bundle import build_bundle, verify_bundle
from scanner.review.referral import verify_referral
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


def _brotli_bomb() -> bytes:
    """brotli of ``INFLATED`` zeros: a few hundred bytes, less than one block warcio reads at a time."""
    packer = brotli.Compressor(quality=5)
    return b"".join(packer.process(bytes(1 << 20)) for _ in range(INFLATED >> 20)) + packer.finish()


def _forge_body_digest(bundle: Path, url: str) -> None:
    """Rewrite the bundle as a forger would: the manifest names another body digest for ``url``,
    which makes verification decode that record's body to compare."""
    with zipfile.ZipFile(bundle) as source:
        members = {name: source.read(name) for name in source.namelist()}
    manifest = json.loads(members["manifest.json"])
    for capture in manifest["captures"]:
        if capture["url"] == url:
            capture["body_sha256"] = "0" * 64
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


def test_a_forged_bundle_decoding_a_brotli_bomb_is_verified_in_bounded_memory(
    seeded: Seeded, tmp_path: Path
) -> None:
    """warcio inflates a whole block of input at once (this bomb is less than one block); with the
    brotli module installed here its brotli reader did not even start (AttributeError, swallowed), so
    a brotli body was never decoded. It is now, a block at a time."""
    headers = [("Content-Type", "text/html"), ("Content-Encoding", "br")]
    bundle = _bundle_holding(seeded, tmp_path, "/brotli-bomb", headers, _brotli_bomb())
    url = "http://fastcoin.test/brotli-bomb"
    _forge_body_digest(bundle, url)
    problems, peak = _verify_traced(bundle)
    assert f"{url}): body SHA-256 does not match the manifest's body_sha256" in "\n".join(problems), problems
    assert peak < 32 * 1024 * 1024, f"verification held {peak >> 20} MB"


def _write_zip(path: Path, members: dict[str, bytes], bombs: dict[str, int]) -> Path:
    """A zip of ``members`` and, for each of ``bombs``, that many zero bytes (written a MiB at a time:
    ~1 MB on disk per GiB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
        for name, size in bombs.items():
            with out.open(name, "w", force_zip64=True) as member:
                for _ in range(size >> 20):
                    member.write(bytes(1 << 20))
    return path


def test_a_forged_bundle_whose_manifest_is_a_zip_bomb_or_nested_deep(seeded: Seeded, tmp_path: Path) -> None:
    """The manifest was read whole (512 MiB of zeros from a 0.5 MB member) and a manifest of nested
    brackets raised RecursionError out of the verifier (a traceback for whoever checks a bundle)."""
    warc = zipfile.ZipFile(_bundle_holding(seeded, tmp_path, "/ok", [], b"ok")).read("evidence.warc.gz")
    bomb = _write_zip(tmp_path / "bomb.zip", {"evidence.warc.gz": warc}, {"manifest.json": 512 << 20})
    problems, peak = _verify_traced(bomb)
    assert problems == [
        "manifest.json: larger than 134217728 bytes once inflated: not a manifest pkscan writes"
    ]
    assert peak < 160 << 20, f"verification held {peak >> 20} MB"
    deep = _write_zip(tmp_path / "deep.zip", {"evidence.warc.gz": warc, "manifest.json": b"[" * 100_000}, {})
    (problem,) = verify_bundle(deep)
    assert problem.startswith("manifest.json: not a valid manifest (RecursionError"), problem


def test_a_forged_referral_packet_holding_a_zip_bomb_is_checked_in_bounded_memory(
    seeded: Seeded, tmp_path: Path
) -> None:
    """Each member of a packet was read whole to hash it: a referral.html of 512 MiB of zeros (0.5 MB
    in the packet) held 512 MiB."""
    bundle = _bundle_holding(seeded, tmp_path, "/ok", [], b"ok").read_bytes()
    sums = f"{'0' * 64}  referral.html\n{hashlib.sha256(bundle).hexdigest()}  evidence-bundle.zip\n".encode()
    packet = _write_zip(
        tmp_path / "packet.zip",
        {"SHA256SUMS": sums, "evidence-bundle.zip": bundle},
        {"referral.html": 512 << 20},
    )
    tracemalloc.start()
    try:
        problems = verify_referral(packet)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problems == ["referral.html: SHA-256 differs from SHA256SUMS"]
    assert peak < 32 << 20, f"verification held {peak >> 20} MB"
