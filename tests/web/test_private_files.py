"""Owner-only evidence, database, keys and secrets whatever the umask; bundles built on demand, not kept."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.review.bundle import verify_bundle
from scanner.store.models import AuditEvent
from scanner.web import create_app
from tests.web.reviewkit import Seeded, login, make_config, seed


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        seeded = seed(make_config(tmp_path))  # database, WARC files, through the real recorder
        client = TestClient(create_app(seeded.config), follow_redirects=False)  # web secret
        login(client, "alice")
        assert client.get(f"/review/findings/{seeded.findings['fastcoin']}/bundle").status_code == 200
        from blocklist.sign import load_signer

        load_signer(seeded.config.data_dir)  # feed signing key
    finally:
        os.umask(old)
    data = seeded.config.data_dir
    assert _mode(data) == 0o700
    for directory in (data / "warc", data / "keys", data / "bundles"):
        assert _mode(directory) == 0o700, directory
    private = [p for p in data.rglob("*") if p.is_file() and not p.name.endswith(".pub.pem")]
    assert {p.name for p in private} >= {"pkscan.sqlite3", "web-secret.key", "feed-ed25519.pem"}
    assert any(p.suffix == ".gz" for p in private)
    assert {str(p.relative_to(data)): oct(_mode(p)) for p in private if _mode(p) != 0o600} == {}


def test_bundles_are_built_on_demand_and_not_kept(as_alice: tuple[TestClient, str], seeded: Seeded, tmp_path: Path) -> None:
    client, _ = as_alice
    scratch = seeded.config.data_dir / "bundles"
    scratch.mkdir(parents=True, exist_ok=True)
    leftover = scratch / "finding-1-old.zip"  # kept forever by earlier versions
    leftover.write_bytes(b"old")
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    for _ in range(2):
        response = client.get(f"/review/findings/{seeded.findings['fastcoin']}/bundle")
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith('attachment; filename="finding-')
        saved = tmp_path / "downloaded.zip"
        saved.write_bytes(response.content)
        assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
        assert verify_bundle(saved) == []
    assert list(scratch.iterdir()) == []
    with Session(seeded.engine) as session:
        downloads = session.exec(select(AuditEvent).where(AuditEvent.action == "bundle.download")).all()
    assert len(downloads) == 2
