"""Evidence bundles: what they contain, that they verify, and that any tampering is detected."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from scanner.review.bundle import MANIFEST_NAME, README_NAME, WARC_NAME, build_bundle, verify_bundle
from scanner.review.decisions import decide
from scanner.store.db import session_scope
from tests.web.reviewkit import Seeded


@pytest.fixture
def bundle(seeded: Seeded, tmp_path: Path) -> Path:
    finding_id = seeded.findings["fastcoin"]
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "confirm", "PKR via JazzCash, not licensed", "alice")
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "approve", "agree after review", "bob")
    with session_scope(seeded.engine) as session:
        return build_bundle(session, seeded.config, finding_id, tmp_path / "out" / "bundle.zip")


def _rewrite(src: Path, dst: Path, name: str, change) -> Path:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            zout.writestr(item, change(data) if item == name else data)
    return dst


def _manifest_change(edit):  # type: ignore[no-untyped-def]
    def change(data: bytes) -> bytes:
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def test_bundle_contents_and_verification(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        assert set(archive.namelist()) == {WARC_NAME, MANIFEST_NAME, README_NAME}
        manifest = json.loads(archive.read(MANIFEST_NAME))
        readme = archive.read(README_NAME).decode()
    assert manifest["platform"]["key"] == "fastcoin.test"
    assert {d["value"] for d in manifest["domains"]} == {"fastcoin.test", "fastcoin-pk.test"}
    assert [(d["action"], d["by"], d["reason"]) for d in manifest["decisions"]] == [
        ("confirm", "alice", "PKR via JazzCash, not licensed"),
        ("approve", "bob", "agree after review"),
    ]
    assert [e["action"] for e in manifest["audit"]] == ["decision.confirm", "decision.approve"]
    capture = manifest["captures"][0]
    assert capture["seq"] == 1 and capture["prev_chain_hash"] == "0" * 64 and len(capture["chain_hash"]) == 64
    assert {s["capture_id"] for s in manifest["signals"]} == {capture["id"]}
    assert manifest["finding"]["status"] == "published" and manifest["generated_at"]
    assert "sha256sum evidence.warc.gz" in readme and "chain_hash" in readme
    assert verify_bundle(bundle) == []


def test_one_changed_byte_in_the_warc_is_detected(bundle: Path, tmp_path: Path) -> None:
    def flip(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]

    problems = verify_bundle(_rewrite(bundle, tmp_path / "t.zip", WARC_NAME, flip))
    assert any("SHA-256" in p for p in problems)


def test_replaced_evidence_with_a_matching_manifest_hash_is_still_detected(bundle: Path, tmp_path: Path) -> None:
    # The forger also fixes warc_sha256, but the per-capture digests are bound to the chain.
    with zipfile.ZipFile(bundle) as archive:
        warc = archive.read(WARC_NAME)
    forged_warc = warc.replace(b"JazzCash", b"JazzCasH") if b"JazzCash" in warc else warc[:-10] + b"0" * 10
    import hashlib

    step = _rewrite(bundle, tmp_path / "a.zip", WARC_NAME, lambda _d: forged_warc)
    forged = _rewrite(
        step, tmp_path / "b.zip", MANIFEST_NAME,
        _manifest_change(lambda m: m.update(warc_sha256=hashlib.sha256(forged_warc).hexdigest())),
    )
    problems = verify_bundle(forged)
    assert problems and not any(p.startswith(WARC_NAME + ": SHA-256") for p in problems)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m["captures"][0].update(body_sha256="0" * 64), "body SHA-256"),
        (lambda m: m["captures"][1].update(prev_chain_hash="f" * 64), "does not link"),
        (lambda m: m["captures"][0]["chained"].update(url="http://other.test/"), "chain_hash does not match"),
        (lambda m: m["captures"][0].update(record_id="<urn:uuid:missing>"), "not in evidence.warc.gz"),
        (lambda m: m.update(format="something else"), "unknown format"),
    ],
)
def test_manifest_tampering_is_detected(bundle: Path, tmp_path: Path, edit, expected: str, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads(zipfile.ZipFile(bundle).read(MANIFEST_NAME))
    if len(manifest["captures"]) < 2 and "link" in expected:
        # Give the bundle a second capture so there is a link to break.
        with session_scope(seeded.engine) as session:
            from scanner.store.models import Capture, Signal

            other = session.get(Capture, seeded.captures["fastcoin"] + 1)
            assert other is not None
            session.add(Signal(finding_id=seeded.findings["fastcoin"], capture_id=other.id, kind="x", value="y"))
        with session_scope(seeded.engine) as session:
            bundle = build_bundle(session, seeded.config, seeded.findings["fastcoin"], tmp_path / "two.zip")
        assert verify_bundle(bundle) == []
    problems = verify_bundle(_rewrite(bundle, tmp_path / "t.zip", MANIFEST_NAME, _manifest_change(edit)))
    assert any(expected in p for p in problems), problems


def test_not_a_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert "not a readable zip" in verify_bundle(junk)[0]
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("x.txt", "x")
    assert "missing" in verify_bundle(tmp_path / "empty.zip")[0]


def test_a_bundles_own_words_cannot_drive_the_terminal_that_verifies_it(bundle: Path, tmp_path: Path) -> None:
    """A bundle is a file anyone may hand over; its manifest's URLs are printed by `evidence verify
    --bundle` when a check fails. ESC sequences (clear the screen, rewrite the lines above) are written out."""
    import subprocess
    import sys

    def hostile_url(manifest: dict) -> None:  # type: ignore[type-arg]
        manifest["captures"][0].update(url="http://x.test/\x1b[2J\x1b[1A✓ bundle verified", record_id="<urn:x>")

    tampered = _rewrite(bundle, tmp_path / "t.zip", MANIFEST_NAME, _manifest_change(hostile_url))
    result = subprocess.run([sys.executable, "-m", "scanner.cli.main", "evidence", "verify", "--bundle", str(tampered)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "http://x.test/\\x1b[2J\\x1b[1A✓ bundle verified" in result.stdout
