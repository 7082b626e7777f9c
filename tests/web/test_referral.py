"""Referral packets: one download from a confirmed finding, printable, and verifiable offline."""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import select

from scanner.review.decisions import decide
from scanner.review.referral import BUNDLE_NAME, HTML_NAME, PDF_NAME, SUMS_NAME
from scanner.store.db import session_scope
from scanner.store.models import Finding, Signal
from scanner.web.app import create_app
from tests.conftest import REPO_ROOT, chromium_path, require
from tests.web.reviewkit import Seeded, login, record_render_of

# Markup, and a right-to-left override that would show "moc.live" as "evil.com" and turn the line around.
HOSTILE = '<script>alert("x")</script><img src=http://tracker.test/p.png> pay at \u202emoc.live\u202c'


def confirm(seeded: Seeded, finding_id: int) -> None:
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "confirm", "PKR via JazzCash, not licensed", "alice")
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "approve", "agree after review", "bob")


def scanner_cli(seeded: Seeded, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(seeded.config.dir), **seeded.config.env}
    return subprocess.run([str(REPO_ROOT / ".venv/bin/scanner"), *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_an_officer_downloads_a_referral_packet_that_verifies_offline(seeded: Seeded, tmp_path: Path) -> None:
    require("Chromium", chromium_path() is not None, "apt-get install chromium (it prints the referral PDF)")
    finding_id = seeded.findings["fastcoin"]
    with session_scope(seeded.engine) as session:  # the platform wrote this text; the packet must not run it
        signal = session.exec(select(Signal).where(Signal.finding_id == finding_id)).first()
        assert signal is not None
        signal.snippet = HOSTILE
        session.add(signal)
    confirm(seeded, finding_id)

    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    assert f'href="/review/findings/{finding_id}/referral"' in client.get(f"/review/findings/{finding_id}").text
    answer = client.get(f"/review/findings/{finding_id}/referral")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="finding-{finding_id}-referral-')
    packet = tmp_path / "referral.zip"
    packet.write_bytes(answer.content)

    with zipfile.ZipFile(packet) as archive:
        assert set(archive.namelist()) == {HTML_NAME, PDF_NAME, BUNDLE_NAME, SUMS_NAME}
        page = archive.read(HTML_NAME).decode()
        pdf = archive.read(PDF_NAME)
        sums = archive.read(SUMS_NAME).decode()
        bundle_bytes = archive.read(BUNDLE_NAME)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    assert "fastcoin.test" in page and "fastcoin-pk.test" in page
    assert "PKR via JazzCash, not licensed" in page and "agree after review" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "<img src=http" not in page
    assert "\u202e" not in page and "pay at \\u202emoc.live\\u202c" in page  # written out, not obeyed
    assert "default-src 'none'" in page  # inert in any browser that opens it
    assert f"{hashlib.sha256(bundle_bytes).hexdigest()}  {BUNDLE_NAME}" in sums
    (tmp_path / BUNDLE_NAME).write_bytes(bundle_bytes)
    with zipfile.ZipFile(tmp_path / BUNDLE_NAME) as bundle:
        manifest = bundle.read("manifest.json").decode()
    for body_sha256 in re.findall(r'"body_sha256": "([0-9a-f]{64})"', manifest):
        assert body_sha256 in page  # every capture's hash is on the page

    verified = scanner_cli(seeded, "evidence", "verify", "--bundle", str(packet))
    assert verified.returncode == 0 and "referral packet" in verified.stdout, verified.stdout + verified.stderr
    # one changed byte of the evidence inside is found, by the digests and by the bundle's own checks
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(packet) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == BUNDLE_NAME:
                data = data[:40] + bytes([data[40] ^ 1]) + data[41:]  # inside the WARC, stored uncompressed
            dst.writestr(name, data)
    refused = scanner_cli(seeded, "evidence", "verify", "--bundle", str(tampered))
    assert refused.returncode == 1 and f"{BUNDLE_NAME}: SHA-256 differs from {SUMS_NAME}" in refused.stdout


def test_a_finding_no_officer_confirmed_has_no_referral(seeded: Seeded) -> None:
    finding_id = seeded.findings["fastcoin"]
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    answer = client.get(f"/review/findings/{finding_id}/referral")
    assert "/referral" not in client.get(f"/review/findings/{finding_id}").text  # no link offered
    assert answer.status_code == 409 and "a referral is made from a confirmed finding" in answer.text
    with session_scope(seeded.engine) as session:
        assert session.get(Finding, finding_id).status == "new"  # type: ignore[union-attr]


def test_the_cli_writes_the_packet_and_says_when_there_is_no_pdf(seeded: Seeded, tmp_path: Path) -> None:
    confirm(seeded, seeded.findings["fastcoin"])
    settings = seeded.config.dir / "settings.yaml"
    settings.write_text(settings.read_text().replace("review:\n", "review:\n  referral_browser: /nonexistent/chromium\n"))
    refused = scanner_cli(seeded, "findings", "referral", str(seeded.findings["fastcoin"]), "--out", str(tmp_path / "r.zip"))
    assert refused.returncode == 2 and "review.referral_browser: /nonexistent/chromium is not a file" in refused.stderr


def test_the_screenshot_of_a_rendered_page_is_on_the_referral_and_in_the_packet(seeded: Seeded, tmp_path: Path) -> None:
    from tests.evidence.test_render_records import PNG

    finding_id = seeded.findings["fastcoin"]
    _page, render = record_render_of(seeded, "fastcoin")
    confirm(seeded, finding_id)
    with session_scope(seeded.engine) as session:
        from scanner.review.referral import build_referral

        packet = build_referral(session, seeded.config, finding_id, tmp_path / "packet.zip")
    with zipfile.ZipFile(packet) as archive:
        shot = archive.read(f"screenshots/capture-{render.id}.png")
        page_html = archive.read(HTML_NAME).decode()
        sums = archive.read(SUMS_NAME).decode()
    assert shot == PNG and hashlib.sha256(PNG).hexdigest() == render.screenshot_sha256
    assert "What a visitor saw (1 rendered page)" in page_html and "data:image/png;base64," in page_html
    assert f"screenshots/capture-{render.id}.png" in sums
    verified = scanner_cli(seeded, "evidence", "verify", "--bundle", str(packet))
    assert verified.returncode == 0, verified.stdout + verified.stderr
