"""A finding whose evidence includes a record declared lost by `evidence repair` still gets a bundle that verifies."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from scanner.evidence.repair import repair
from scanner.review.bundle import MANIFEST_NAME, README_NAME, build_bundle, verify_bundle
from scanner.store.db import session_scope
from scanner.store.models import Capture, Finding
from tests.web.reviewkit import Seeded, WarcLog


def test_bundle_lists_a_lost_capture_and_carries_the_rest(seeded: Seeded, tmp_path: Path) -> None:
    finding_id = seeded.findings["fastcoin"]
    with session_scope(seeded.engine) as session:
        platform_id = session.get(Finding, finding_id).platform_id  # type: ignore[union-attr]
        lost = session.get(Capture, seeded.captures["fastcoin"])
        assert lost is not None
        lost_seq, lost_url, lost_path = lost.seq, lost.url, seeded.config.data_dir / lost.warc_file
        start, length = lost.warc_offset, lost.warc_length
    kept = WarcLog(seeded.config, seeded.engine).write("http://fastcoin.test/p2p", b"<p>Buy USDT with JazzCash</p>")
    with session_scope(seeded.engine) as session:
        row = session.get(Capture, kept.id)
        row.platform_id = platform_id  # type: ignore[union-attr]
        session.add(row)
    data = bytearray(lost_path.read_bytes())
    data[start + length // 2] ^= 0x01  # the disk lost this record
    lost_path.write_bytes(bytes(data))

    with session_scope(seeded.engine) as session, pytest.raises(ValueError, match=f"seq {lost_seq}"):
        build_bundle(session, seeded.config, finding_id, tmp_path / "refused.zip")  # damaged evidence is not copied

    repair(seeded.engine, seeded.config.data_dir, "sector errors on the evidence disk",
           warc_max_bytes=seeded.config.settings.warc_max_bytes)  # fmt: skip
    with session_scope(seeded.engine) as session:
        bundle = build_bundle(session, seeded.config, finding_id, tmp_path / "bundle.zip")
    assert verify_bundle(bundle) == []
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        readme = archive.read(README_NAME).decode()
    assert [c["seq"] for c in manifest["captures"]] == [kept.seq]
    [entry] = manifest["lost_captures"]
    assert entry["seq"] == lost_seq and entry["url"] == lost_url
    assert entry["reason"] == "sector errors on the evidence disk" and "SHA-256" in entry["problem"]
    assert "lost_captures" in readme
