"""`scanner users`, `findings decide`, `serve` and `evidence verify --bundle` as an operator runs them.

`users` and `decide` run in-process through the real typer app (fast); `serve` and `evidence verify`
run as real subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlmodel import Session, select

from scanner.store.models import AuditEvent, Decision, Finding, User
from scanner.web.security.passwords import verify_password
from tests.web.reviewkit import Seeded, free_port

SCANNER = [sys.executable, "-m", "scanner.cli.main"]


@pytest.fixture
def cli(seeded: Seeded) -> Iterator[Callable[..., Result]]:
    from typer.testing import CliRunner

    from scanner.cli.main import app

    runner = CliRunner()
    yield lambda *args, stdin="": runner.invoke(app, list(args), input=stdin, obj=seeded.config)


def run(seeded: Seeded, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SCANNER_CONFIG_DIR=str(seeded.config.dir), SCANNER_DATA_DIR=str(seeded.config.data_dir))
    env.pop("SCANNER_DATABASE_URL", None)
    return subprocess.run([*SCANNER, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_users_add_list_and_errors(seeded: Seeded, cli: Callable[..., Result]) -> None:
    added = cli("users", "add", "carol", "--role", "officer", "--password-stdin", stdin="a long passphrase\n")
    assert added.exit_code == 0, added.stderr
    with Session(seeded.engine) as session:
        carol = session.exec(select(User).where(User.username == "carol")).one()
        assert carol.role == "officer" and verify_password(carol.password_hash, "a long passphrase")
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.add")).one().subject == "user:carol"
    listed = cli("users", "list")
    assert "carol" in listed.stdout and "admin" in listed.stdout
    duplicate = cli("users", "add", "carol", "--role", "officer", "--password-stdin", stdin="another passphrase\n")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.stderr
    bad_role = cli("users", "add", "dave", "--role", "boss", "--password-stdin", stdin="a long passphrase\n")
    assert bad_role.exit_code == 2 and "--role" in bad_role.stderr
    short = cli("users", "add", "erin", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "too short" in short.stderr
    no_terminal = run(seeded, "users", "add", "frank", "--role", "officer")
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr


def test_findings_decide(seeded: Seeded, cli: Callable[..., Result]) -> None:
    finding = str(seeded.findings["slowex"])
    ok = cli("findings", "decide", finding, "confirm", "--reason", "Urdu ads, PKR", "--by", "alice")
    assert ok.exit_code == 0, ok.stderr
    assert "pending-approval" in ok.stdout
    same = cli("findings", "decide", finding, "approve", "--reason", "self", "--by", "alice")
    assert same.exit_code == 2 and "different officer" in same.stderr
    unknown = cli("findings", "decide", finding, "approve", "--reason", "x", "--by", "nobody")
    assert unknown.exit_code == 2 and "unknown user" in unknown.stderr
    approved = cli("findings", "decide", finding, "approve", "--reason", "agreed", "--by", "bob")
    assert approved.exit_code == 0 and "published" in approved.stdout
    never = cli("findings", "decide", str(seeded.findings["p2pbig"]), "revoke", "--reason", "x", "--by", "bob")
    assert never.exit_code == 2 and "never published" in never.stderr
    with Session(seeded.engine) as session:
        assert session.get(Finding, int(finding)).status == "published"  # type: ignore[union-attr]
        assert [d.action for d in session.exec(select(Decision))] == ["confirm", "approve"]
        events = session.exec(select(AuditEvent).where(AuditEvent.subject == f"finding:{finding}")).all()
        assert [e.detail["via"] for e in events] == ["cli", "cli"]


def test_serve_help_names_the_routes(cli: Callable[..., Result]) -> None:
    result = cli("serve", "--help")
    assert result.exit_code == 0 and "/review/" in result.stdout


@pytest.mark.slow
def test_serve_runs_the_app(seeded: Seeded) -> None:
    import time

    import httpx

    port = free_port()
    env = dict(os.environ, SCANNER_CONFIG_DIR=str(seeded.config.dir), SCANNER_DATA_DIR=str(seeded.config.data_dir))
    env.pop("SCANNER_DATABASE_URL", None)
    server = subprocess.Popen([*SCANNER, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "scanner serve did not start"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "ok"}
        review = httpx.get(f"http://127.0.0.1:{port}/review/")
        assert review.status_code == 303 and review.headers["location"].startswith("/review/login")
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_evidence_verify_bundle_command(seeded: Seeded, tmp_path: Path) -> None:
    import zipfile

    from scanner.review.bundle import WARC_NAME, build_bundle
    from scanner.store.db import session_scope

    with session_scope(seeded.engine) as session:
        bundle = build_bundle(session, seeded.config, seeded.findings["fastcoin"], tmp_path / "bundle.zip")
    good = run(seeded, "evidence", "verify", "--bundle", str(bundle))
    assert good.returncode == 0, good.stdout + good.stderr
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data[:-1] + bytes([data[-1] ^ 1]) if name == WARC_NAME else data)
    bad = run(seeded, "evidence", "verify", "--bundle", str(tampered))
    assert bad.returncode == 1 and "SHA-256" in bad.stdout
