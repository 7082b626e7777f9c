"""The review workspace in a real browser (Playwright on Debian's Chromium, against a real uvicorn).

From the queue to a published blocklist entry: log in, filter, open a finding, confirm with a reason,
a second officer approves, the entry is in the bank feed. A script inside a captured page does not
run; unauthenticated and wrong-role access is refused; a post without the CSRF token is refused.
Screenshots of the queue and the finding page go to test-results/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO_ROOT, chromium_path, require
from tests.web.reviewkit import PASSWORD, Seeded, seed_demo_sized, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESULTS = REPO_ROOT / "test-results"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def server(seeded: Seeded) -> Iterator[str]:
    from scanner.web import create_app

    with serve(create_app(seeded.config)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[object]:
    path = chromium_path()
    require("Chromium", path is not None, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/review/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/review/")


def _queue_platforms(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("table.queue tbody td:nth-child(2) a").all_inner_texts()


def test_queue_to_published_entry(server: str, browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    RESULTS.mkdir(exist_ok=True)
    finding_id = seeded.findings["fastcoin"]
    context = browser.new_context()
    page = context.new_page()
    script_errors: list[str] = []
    page.on("console", lambda msg: script_errors.append(msg.text) if msg.type == "error" else None)

    # Unauthenticated: sent to the login page.
    page.goto(f"{server}/review/findings/{finding_id}")
    assert page.url.startswith(f"{server}/review/login")

    _login(page, server, "alice")
    assert _queue_platforms(page) == ["fastcoin.test", "p2pbig.test", "slowex.test"]
    page.screenshot(path=str(RESULTS / "review-queue.png"), full_page=True)

    # Filter: a drop-down applies at once (static/app.js), the text box with the button.
    page.select_option("select[name=kind]", "urdu_term")
    page.wait_for_url("**kind=urdu_term**")
    assert _queue_platforms(page) == ["slowex.test"]
    page.goto(f"{server}/review/")
    page.fill("input[name=platform]", "fastcoin")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**platform=fastcoin**")
    assert _queue_platforms(page) == ["fastcoin.test"]

    # Open the finding, confirm with a reason.
    page.click("text=fastcoin.test")
    page.wait_for_url(f"{server}/review/findings/{finding_id}")
    assert page.locator("#finding-status").inner_text() == "new"
    # Signals are grouped; a value opens to the captures it was found in.
    page.click("table.signals summary >> nth=0")
    assert page.locator("table.signals ol.sightings a").first.is_visible()
    page.screenshot(path=str(RESULTS / "review-finding.png"), full_page=True)
    page.evaluate("() => { window.sameDocument = true; }")
    page.fill("textarea[name=reason]", "Takes PKR through JazzCash; not on the PVARA register")
    page.click("button[value=confirm]")
    expect(page.locator("#finding-status")).to_have_text("pending-approval")
    assert page.evaluate("() => window.sameDocument") is True  # swapped in place, not reloaded
    assert "Takes PKR through JazzCash" in page.locator("#timeline").inner_text()
    assert page.url.endswith("done=confirm")
    assert page.locator("button[value=approve]").count() == 0  # not for the officer who confirmed

    # The captured page: shown as text, its script never runs, not even in the raw sandbox.
    page.click(f"a[href='/review/captures/{seeded.captures['fastcoin']}?finding={finding_id}'] >> nth=0")
    page.wait_for_url("**/review/captures/**")
    assert page.locator("#captured-text mark").first.inner_text() == "Deposit PKR with JazzCash instantly"
    page.click("details summary")
    raw = page.frame_locator("iframe.raw")
    assert "Buy USDT in Pakistan" in raw.locator("body").inner_text()
    assert page.title() != "PWNED"
    assert page.evaluate("() => window.pwned") is None
    frame = next(f for f in page.frames if f.url.endswith("/raw"))
    assert frame.evaluate("() => [document.title, window.pwned === undefined]") == ["FastCoin PK", True]

    # Wrong role: an officer cannot open admin pages.
    response = page.goto(f"{server}/review/admin/audit")
    assert response is not None and response.status == 403

    # CSRF: the same logged-in browser posting without the token is refused.
    refused = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                           body: 'action=dismiss&reason=forged'})).status""",
        f"{server}/review/findings/{finding_id}/decisions",
    )
    assert refused == 403
    context.close()

    # A second officer approves.
    other = browser.new_context()
    page = other.new_page()
    _login(page, server, "bob")
    page.goto(f"{server}/review/findings/{finding_id}")
    page.click("button[value=approve]")  # without a reason: the browser refuses to send it
    assert page.locator("#finding-status").inner_text() == "pending-approval"
    page.fill("textarea[name=reason]", "Second review: agree, evidence is clear")
    page.click("button[value=approve]")
    expect(page.locator("#finding-status")).to_have_text("published")
    decisions = page.locator("table.decisions").inner_text()
    assert "alice" in decisions and "bob" in decisions and "Second review" in decisions
    other.close()

    # The admin sees both decisions in the audit trail.
    admin = browser.new_context()
    page = admin.new_page()
    _login(page, server, "root")
    page.goto(f"{server}/review/admin/audit")
    trail = page.locator("table.audit").inner_text()
    assert "decision.confirm" in trail and "decision.approve" in trail
    admin.close()

    _assert_in_feed(server, seeded)
    # The browser itself reports the captured page's script as blocked by the sandbox, and our own
    # pages never tripped their CSP (only the captured page's own resources did, inside the sandbox).
    assert any("Blocked script execution" in e and "/raw" in e for e in script_errors), script_errors
    assert not [e for e in script_errors if "Content Security Policy" in e and "/review/captures/" not in e]


def _assert_in_feed(server: str, seeded: Seeded) -> None:
    import httpx

    from scanner.store.db import session_scope

    try:
        from blocklist import keys
    except ImportError:
        # Feeds not installed yet: the published status and audit trail above are the end state.
        return
    with session_scope(seeded.engine) as session:
        _row, raw_key = keys.create(session, "Test Bank")
    feed = httpx.get(f"{server}/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {raw_key}"})
    assert feed.status_code == 200, feed.text
    assert "fastcoin.test" in feed.text


def test_login_page_refuses_a_post_without_csrf(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{server}/review/login")
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                           body: 'username=alice&password=x'})).status""",
        f"{server}/review/login",
    )
    assert status == 403
    page.close()


SCREEN = {"width": 1280, "height": 900}


def test_demo_sized_finding_page_fits_in_two_screens(browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    """The demo's largest finding (348 signals over 18 captures) was 41,310 px tall, one row per signal."""
    from scanner.web import create_app

    RESULTS.mkdir(exist_ok=True)
    finding_id = seed_demo_sized(seeded)
    with serve(create_app(seeded.config)) as server:
        context = browser.new_context(viewport=SCREEN)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        _login(page, server, "alice")
        page.goto(f"{server}/review/findings/{finding_id}")
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.screenshot(path=str(RESULTS / "review-finding-demo-sized.png"), full_page=True)
        print(f"demo-sized finding page: {height} px at {SCREEN['width']}x{SCREEN['height']}")
        assert height <= 2 * SCREEN["height"], f"{height} px is more than two screens"
        # Judgements are on the first screen; every one of the 43 groups is a row.
        assert page.locator("#judgements").bounding_box()["y"] < SCREEN["height"]  # type: ignore[index]
        assert page.locator("tr.signal-group").count() == 43
        # Opening a group shows each of its 18 captures with a link to the captured text.
        group = page.locator("tr.signal-group", has_text="og:locale=en_PK")
        group.locator("summary").click()
        links = group.locator("ol.sightings a")
        assert links.count() == 18 and links.first.is_visible()
        links.first.click()
        page.wait_for_url("**/review/captures/**")
        page.goto(f"{server}/review/dashboard")
        assert page.locator("figure.chart svg").count() == 4
        page.screenshot(path=str(RESULTS / "review-dashboard.png"), full_page=True)
        assert not [p for p in problems if "Content Security Policy" in p], problems
        context.close()


def test_bank_dispute_is_revoked_by_two_officers_and_leaves_every_feed(browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from scanner.web import create_app
    from tests.web.feedcheck import (
        assert_removed_everywhere,
        listed_everywhere,
        publish_with_bank_key,
        raise_dispute,
    )

    RESULTS.mkdir(exist_ok=True)
    key = publish_with_bank_key(seeded)
    with serve(create_app(seeded.config)) as server, httpx.Client(base_url=server) as bank:
        assert listed_everywhere(bank, key, "fastcoin.test")
        dispute = raise_dispute(bank, key, "fastcoin.test", "We hold PVARA licence 2026/17")
        problems: list[str] = []

        # The operator uses the public form (no login; its CSRF token is bound to a cookie).
        operator = browser.new_context(viewport=SCREEN)
        page = operator.new_page()
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{server}/dispute")
        page.fill("input[name=entry]", "fastcoin-pk.test")
        page.fill("input[name=contact]", "ops@fastcoin.test")
        page.fill("textarea[name=reason]", "<b>This mirror is ours and licensed</b>")
        page.click("button[type=submit]")
        expect(page.locator("#dispute-created")).to_be_visible()
        operator.close()

        first = browser.new_context(viewport=SCREEN)
        page = first.new_page()
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        _login(page, server, "alice")
        page.click("header nav >> text=Disputes")
        assert page.locator("table.disputes tbody tr").count() == 2
        assert "operator: ops@fastcoin.test" in page.locator("table.disputes").inner_text()
        row = page.locator("table.disputes tbody tr", has_text="bank: Test Bank")
        assert "fastcoin.test" in row.inner_text()
        assert row.locator("td.age").inner_text() == "0 min"
        page.screenshot(path=str(RESULTS / "review-disputes.png"), full_page=True)
        row.locator("a").first.click()
        page.fill("textarea[name=reason]", "The licence checks out on the register")
        page.click("button[value=revoke]")
        expect(page.locator("#dispute-status")).to_have_text("revoke-proposed")
        assert page.locator("button[value=approve-revoke]").count() == 0  # not for the proposer
        first.close()
        assert listed_everywhere(bank, key, "fastcoin.test")  # one officer alone removes nothing

        second = browser.new_context(viewport=SCREEN)
        page = second.new_page()
        _login(page, server, "bob")
        page.goto(f"{server}/review/disputes/{dispute['id']}")
        page.fill("textarea[name=reason]", "Agreed: licensed, remove it")
        page.click("button[value=approve-revoke]")
        expect(page.locator("#dispute-status")).to_have_text("revoked")
        assert "dispute.revoked" in page.locator("#trail").inner_text()
        page.screenshot(path=str(RESULTS / "review-dispute-revoked.png"), full_page=True)
        second.close()
        removed = assert_removed_everywhere(bank, key, {"fastcoin.test", "fastcoin-pk.test"})
        # both disputes of the finding are answered by the one revocation
        assert removed["fastcoin.test"]["dispute"]["status"] == "revoked"
        assert removed["fastcoin-pk.test"]["dispute"]["status"] == "revoked"
        assert not [p for p in problems if "Content Security Policy" in p], problems
