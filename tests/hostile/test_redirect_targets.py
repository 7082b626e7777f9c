"""A redirect (Location, a meta refresh, a Refresh header) to something that is no URL fails its page
with a reason that says so, and the crawl goes on; a Refresh header is followed as browsers follow it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from scanner.crawl.redirects import INVALID_TARGET
from scanner.store.models import Capture, Run

from .conftest import Hostile, crawl_site

PATHS = (
    "/go/invalid-v6",
    "/go/invalid-port",
    "/refresh/invalid",
    "/refresh/header-invalid",
    "/refresh/header",
    "/clear",
)


def test_redirects_to_invalid_urls_are_named_in_the_run_summary(hostile: Hostile, tmp_path: Path) -> None:
    engine, _ = crawl_site(hostile, tmp_path, list(PATHS))
    seeds = [hostile.url(path) for path in PATHS]
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captured = {c.url for c in session.exec(select(Capture))}
    assert run.error_summary.splitlines() == [f"www.hostile.test: 4x {INVALID_TARGET} (ValueError)"]
    assert set(seeds) <= captured  # each answer is evidence; the crawl went on to /clear
    # Scrapy followed only <meta> refreshes; browsers follow the header too.
    assert hostile.url("/clear?from=refresh-header") in captured


def test_a_link_host_with_control_characters_is_summarised_as_text(hostile: Hostile, tmp_path: Path) -> None:
    """The run summary (printed by `scanner crawl`, shown in `scanner runs` and the review UI) names
    each failing host; a host holding ESC M moved the officer's cursor up a line. Such a host is
    refused by the egress policy with its reason (it failed later as a bare "ValueError")."""
    engine, _ = crawl_site(hostile, tmp_path, ["/control-host"], max_depth=1)
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
    assert "\x1b" not in run.error_summary, repr(run.error_summary)
    # Refused as browsers refuse it (the URL standard forbids it in a host), not "ValueError".
    assert "a\\x1bmb.hostile.test: 1x egress refused: malformed" in run.error_summary.splitlines(), repr(
        run.error_summary
    )
