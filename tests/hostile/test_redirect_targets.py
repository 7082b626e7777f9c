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
