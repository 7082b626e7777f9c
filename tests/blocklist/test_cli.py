"""`scanner keys`, `scanner feed publish|verify` and `scanner export` as a user runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from scanner.store.models import ApiKey, AuditEvent, Finding

REPO = Path(__file__).resolve().parents[2]


def env_for(config) -> dict[str, str]:
    env = dict(os.environ, SCANNER_CONFIG_DIR=str(config.dir), SCANNER_DATA_DIR=str(config.data_dir))
    env.pop("SCANNER_DATABASE_URL", None)
    return env


def subprocess_scanner(config, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point in a fresh process (slow: imports everything)."""
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        env=env_for(config), cwd=REPO, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def scanner(monkeypatch):
    """The real `scanner` typer app, in-process, with the test's config in the environment."""
    from scanner.cli.main import app

    def run(config, *args: str) -> SimpleNamespace:
        for name, value in env_for(config).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SCANNER_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, list(args))
        return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

    return run


def test_keys_create_list_revoke(engine, config, scanner):
    created = scanner(config, "keys", "create", "Meezan Bank")
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip()
    assert raw.startswith("pks_") and len(raw) > 40
    with Session(engine) as session:
        (row,) = session.exec(select(ApiKey)).all()
        assert row.bank == "Meezan Bank" and row.key_hash != raw and raw not in row.key_hash
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "apikey.create")).first() is not None
    listed = scanner(config, "keys", "list")
    assert row.prefix in listed.stdout and raw not in listed.stdout
    assert scanner(config, "keys", "revoke", row.prefix).returncode == 0
    again = scanner(config, "keys", "revoke", "Meezan Bank")
    assert again.returncode == 2 and "no active API key" in again.stderr


def test_publish_export_and_offline_verify(engine, config, seed, tmp_path, scanner):
    seed.platform("alpha.test")
    with Session(engine) as session:  # published but not yet synced: `feed publish` picks it up
        assert session.exec(select(Finding)).one().status == "published"
    published = scanner(config, "feed", "publish")
    assert published.returncode == 0 and "published version 1" in published.stdout, published.stderr
    assert "no change" in scanner(config, "feed", "publish").stdout

    out = tmp_path / "out" / "blocklist.json"
    exported = scanner(config, "export", "--format", "json", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_bytes())["entries"][0]["value"] == "alpha.test"
    sig, digest = Path(f"{out}.sig"), Path(f"{out}.sha256")
    assert digest.read_text().split()[1] == "blocklist.json"
    key_file = config.data_dir / "keys" / "feed-ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    ok = scanner(config, "feed", "verify", str(out), str(sig))
    assert ok.returncode == 0 and digest.read_text().split()[0] in ok.stdout
    public = config.data_dir / "keys" / "feed-ed25519.pub.pem"
    assert scanner(config, "feed", "verify", str(out), str(sig), "--public-key", str(public)).returncode == 0

    tampered = bytearray(out.read_bytes())
    tampered[10] ^= 0x01
    out.write_bytes(bytes(tampered))
    bad = scanner(config, "feed", "verify", str(out), str(sig), "--public-key", str(public))
    assert bad.returncode == 1 and "FAILED" in bad.stderr

    for fmt, name in (("rpz", "zone.rpz"), ("stix", "stix.json"), ("csv", "x.csv"), ("rails", "rails.json")):
        target = tmp_path / name
        assert scanner(config, "export", "--format", fmt, "--output", str(target)).returncode == 0
        assert scanner(config, "feed", "verify", str(target), f"{target}.sig").returncode == 0


def test_verify_without_any_public_key_is_a_usage_error(config, tmp_path, scanner):
    artefact = tmp_path / "a.txt"
    artefact.write_text("x\n")
    result = scanner(config, "feed", "verify", str(artefact), "c2lnbmF0dXJl")
    assert result.returncode == 2 and "--public-key" in result.stderr
    assert not (config.data_dir / "keys").exists()


def test_export_rejects_bad_input(config, tmp_path, scanner):
    unknown = scanner(config, "export", "--format", "xml", "--output", str(tmp_path / "x"))
    assert unknown.returncode == 2 and "unknown format 'xml'" in unknown.stderr
    future = scanner(config, "export", "--format", "json", "--output", str(tmp_path / "x"), "--since", "5")
    assert future.returncode == 2 and "newer than the current feed version 0" in future.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_installed_cli_verifies_and_exits_1_on_a_changed_byte(engine, config, seed, tmp_path):
    seed.platform("alpha.test")
    seed.sync()
    out = tmp_path / "domains.txt"
    assert subprocess_scanner(config, "export", "--format", "domains", "--output", str(out)).returncode == 0
    assert subprocess_scanner(config, "feed", "verify", str(out), f"{out}.sig").returncode == 0
    out.write_bytes(out.read_bytes().replace(b"alpha", b"alphA"))
    failed = subprocess_scanner(config, "feed", "verify", str(out), f"{out}.sig")
    assert failed.returncode == 1 and "FAILED" in failed.stderr


def test_delivery_log_lists_which_bank_pulled_which_version(engine, config, scanner):
    from scanner.store.models import ApiKey, Delivery

    with Session(engine) as session:
        key = ApiKey(bank="Meezan Bank", prefix="pks_abc", key_hash="x" * 64)
        session.add(key)
        session.flush()
        session.add(Delivery(api_key_id=key.id, bank="Meezan Bank", artefact="blocklist.csv", version=3, since=1))
        session.add(Delivery(api_key_id=key.id, bank="HBL", artefact="stix.json", version=3, status_code=304))
        session.commit()
    result = scanner(config, "keys", "deliveries", "--json", "--bank", "Meezan Bank")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["bank"], r["artefact"], r["version"], r["since"], r["status"]) for r in rows] == [
        ("Meezan Bank", "blocklist.csv", 3, 1, 200)
    ]
    table = scanner(config, "keys", "deliveries")
    assert "stix.json" in table.stdout and "304" in table.stdout
