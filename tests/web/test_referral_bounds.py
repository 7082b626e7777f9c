"""The referral page of a finding whose evidence the investigated site made large: bounded in size, so
Chromium prints it within its time.

A finding's captures are all its platform's, over every run, and a site chooses their number (its
pages, within ``max_pages`` a run, run after run) and their URLs' length (2,083 characters through the
crawl's links, up to the 16 KB header line through a redirect's Location); its signals' distinct
values too. The page listed every capture with its whole URL and every signal group: 4,000 captures
of 2,000-character URLs made 8.9 MB of HTML that Chromium did not print within 90 s, so the referral
of such a site could not be made at all (1,000 of them: 18 s). The evidence bundle keeps the whole list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from scanner.review.referral import (
    MAX_CAPTURE_ROWS,
    MAX_SIGNAL_ROWS,
    MAX_URL_SHOWN,
    ReferralError,
    print_pdf,
    render_html,
)
from tests.conftest import chromium_path, require


def _manifest(captures: int, url_length: int, signal_values: int) -> dict[str, Any]:
    finding = {"id": 1, "status": "published", "verdict": "flag", "score": 3.0, "crypto_service": True,
               "targets_pakistan": True, "licensed": False, "licence_status": None, "sightings": captures,
               "first_seen": "2026-01-01", "last_seen": "2026-12-07"}  # fmt: skip
    return {
        "finding": finding, "platform": {"key": "evil.test", "name": "Evil"}, "generated_at": "2026-12-07",
        "tool": "pkscan", "tool_version": "test", "two_person_rule": True,
        "domains": [{"value": "evil.test", "kind": "primary", "first_seen": "2026-01-01"}],
        "decisions": [{"at": "2026-12-07", "by": "alice", "action": "confirm", "reason": "PKR via JazzCash"}],
        "signals": [{"kind": "wallet", "value": f"0300{i:07d}", "weight": 1.0 + (i == 7), "snippet": "send PKR",
                     "capture_id": 5 + i % 3} for i in range(signal_values)],
        "captures": [{"id": i, "seq": i, "fetched_at": "2026-12-07T00:00:00", "status": 200, "vantage": None,
                      "url": f"https://evil.test/{i}/" + "a" * url_length, "body_sha256": "0" * 64,
                      "chain_hash": "1" * 64} for i in range(captures)],
        "lost_captures": [],
    }  # fmt: skip


def test_the_page_lists_what_the_signals_cite_then_the_newest_captures_urls_cut_short() -> None:
    html = render_html(_manifest(20_000, 16_000, 50_000), "f" * 64)
    assert len(html) < 1 << 20, f"{len(html) >> 10} KiB"
    assert html.count("<tr><td>") <= MAX_CAPTURE_ROWS + MAX_SIGNAL_ROWS + 1
    # The captures the signals came from are on the page, and the newest; the rest are counted.
    for cited in (5, 6, 7, 19_999):
        assert f"<tr><td>{cited}</td>" in html
    assert f"{20_000 - MAX_CAPTURE_ROWS} more captures" in html and "manifest.json" in html
    assert f"{50_000 - MAX_SIGNAL_ROWS} more signal values" in html
    assert "a" * (MAX_URL_SHOWN + 1) not in html and "16020 characters" in html
    # The strongest signal first, as before.
    assert html.index("03000000007") < html.index("03000000000")


def test_a_small_finding_is_shown_whole() -> None:
    html = render_html(_manifest(3, 40, 2), "f" * 64)
    assert all(f"https://evil.test/{i}/{'a' * 40}" in html for i in range(3))
    assert "more captures" not in html and "more signal values" not in html


def test_chromium_prints_the_page_of_a_large_finding_within_its_time(tmp_path: Path) -> None:
    browser = chromium_path()
    require("Chromium", browser is not None, "apt-get install chromium (it prints the referral PDF)")
    page = tmp_path / "referral.html"
    page.write_text(render_html(_manifest(4_000, 2_000, 2_000), "f" * 64), encoding="utf-8")
    started = time.monotonic()
    try:
        print_pdf(str(browser), page, tmp_path / "referral.pdf")
    except ReferralError as exc:
        raise AssertionError(f"not printed: {exc}") from None
    assert time.monotonic() - started < 60
