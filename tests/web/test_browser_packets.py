"""In a real browser (Playwright on Debian's Chromium, against a real uvicorn): an officer downloads a
referral packet that verifies offline, and an admin releases a publication a gate held.
Screenshots and the downloaded packet go to test-results/."""

from __future__ import annotations

import subprocess

import pytest
from sqlmodel import Session

from blocklist import holds
from scanner.review.decisions import decide
from scanner.store.db import open_store, session_scope
from scanner.store.models import User
from tests.blocklist.conftest import Seeder
from tests.blocklist.test_gates import gate_config, listed
from tests.conftest import REPO_ROOT
from tests.web.reviewkit import Seeded, password_hash, serve
from tests.web.test_browser import RESULTS, _login, browser

__all__ = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_officer_downloads_a_referral_packet_that_verifies_offline(browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    from scanner.web import create_app

    RESULTS.mkdir(exist_ok=True)
    finding_id = seeded.findings["fastcoin"]
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "confirm", "PKR deposits via JazzCash", "alice")
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, finding_id, "approve", "checked the captures", "bob")
    with serve(create_app(seeded.config)) as base:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        _login(page, base, "alice")
        page.goto(f"{base}/review/findings/{finding_id}")
        page.screenshot(path=str(RESULTS / "finding-with-referral-link.png"), full_page=True)
        with page.expect_download() as download_info:
            page.click("#referral")
        packet = RESULTS / "referral-packet.zip"
        download_info.value.save_as(str(packet))
        context.close()
    env = {"PATH": "/usr/bin:/bin", "SCANNER_CONFIG_DIR": str(seeded.config.dir), **seeded.config.env}
    verified = subprocess.run([str(REPO_ROOT / ".venv/bin/scanner"), "evidence", "verify", "--bundle", str(packet)],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert verified.returncode == 0 and "referral packet" in verified.stdout, verified.stdout + verified.stderr


def test_an_admin_releases_a_held_publication_in_the_browser(browser, tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    from scanner.web.app import create_app

    RESULTS.mkdir(exist_ok=True)
    config = gate_config(tmp_path, database_url)
    (config.dir / "settings.yaml").write_text(
        (config.dir / "settings.yaml").read_text() + "web:\n  allowed_hosts: [127.0.0.1, localhost]\n"
    )
    engine = open_store(config)
    with session_scope(engine) as session:
        session.add(User(username="root", password_hash=password_hash(), role="admin"))
    seed = Seeder(engine, config)
    seed.platform("alpha.test")
    seed.sync()
    seed.platform("ghost.test", capture=False)  # the verified-capture gate holds it
    seed.sync()
    with Session(engine) as session:
        assert holds.open_hold(session) is not None
    assert listed(engine) == ["alpha.test"]
    with serve(create_app(type(config)(config.dir, env=config.env))) as base:
        page = browser.new_context().new_page()
        _login(page, base, "root")
        page.goto(f"{base}/review/publication")
        assert "verified-capture" in page.content() and "ghost.test" in page.content()
        page.screenshot(path=str(RESULTS / "publication-held.png"), full_page=True)
        page.fill("textarea[name=reason]", "capture re-taken offline, INC-9")
        page.click("text=Release and publish")
        page.wait_for_url("**/review/publication?released=*")
        assert "Nothing is held." in page.content()
        page.screenshot(path=str(RESULTS / "publication-released.png"), full_page=True)
    assert listed(engine) == ["alpha.test", "ghost.test"]
