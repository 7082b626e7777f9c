"""Bad answers fail the run with a clear message, keep the last good snapshot and write nothing half-way."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from scanner.config import Config
from scanner.store.db import open_store
from scanner.store.models import Capture, P2PAd, PollSnapshot, Run

from .conftest import Sleeps, make_config_dir, poller, use_proxy

P2P = ["binance-p2p", "okx-p2p", "bybit-p2p"]
FAULTS = {
    "malformed": "malformed JSON",
    "schema": "missing field",
    "html200": "HTML page instead of JSON",
    "geo403": "HTTP 403 refused or geo-blocked",
    "500": "HTTP 500",
    "empty": "",  # per adapter below
}


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(PollSnapshot)).one(),
            session.exec(select(func.count()).select_from(P2PAd)).one(),
            session.exec(select(func.count()).select_from(Capture)).one(),
        )


@pytest.fixture(scope="module")
def after_good_polls(tmp_path_factory, world):
    """One store with a good snapshot of every P2P poller; each fault test then polls it badly."""
    tmp = tmp_path_factory.mktemp("faults")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_proxy(monkeypatch, world)
        config = Config(make_config_dir(tmp), env={"SCANNER_DATA_DIR": str(tmp / "data")})
        poll = poller(config)
        good = {name: poll(name) for name in P2P}
        assert all(outcome.ok for outcome in good.values()), good
        yield poll, open_store(config), good


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("name", P2P)
def test_fault_fails_the_run_and_keeps_the_last_snapshot(after_good_polls, name, fault):
    poll, engine, good_polls = after_good_polls
    good = good_polls[name]
    snapshots, ads, captures = _counts(engine)

    bad = poll(name, fault=fault)

    assert not bad.ok
    adapter = name.replace("-", "_")
    assert bad.error.startswith(f"{adapter}: ")
    assert "http://" in bad.error and "__fault/" + fault in bad.error  # names the URL
    assert FAULTS[fault] in bad.error
    if fault == "empty":
        assert "empty" in bad.error
    # Nothing half-written: no new snapshot or ad; the raw responses did go to evidence.
    new_snapshots, new_ads, new_captures = _counts(engine)
    assert (new_snapshots, new_ads) == (snapshots, ads)
    assert new_captures > captures
    with Session(engine) as session:
        run = session.get(Run, bad.run_id)
        assert run is not None and run.status == "failed" and run.error_summary == bad.error
        latest = session.exec(
            select(PollSnapshot).where(PollSnapshot.adapter == good.target.adapter).order_by(PollSnapshot.id.desc())  # type: ignore[union-attr]
        ).first()
        assert latest is not None and latest.run_id == good.run_id


def test_schema_change_names_the_missing_field(poll):
    outcome = poll("binance-p2p", fault="schema")
    assert "response: missing field 'total'" in outcome.error and "totalCount" in outcome.error
    outcome = poll("okx-p2p", fault="schema")
    assert "response.data: missing field 'buy'" in outcome.error
    outcome = poll("bybit-p2p", fault="schema")
    assert "field 'ret_code'" in outcome.error


def test_an_empty_page_before_the_reported_total_is_an_error(poll, engine):
    for name in ("binance-p2p", "bybit-p2p"):
        outcome = poll(name, fault="empty_page2")
        assert not outcome.ok
        assert "page 2 is empty but the API reported" in outcome.error


@pytest.mark.parametrize("fault", ["html200", "malformed", "schema", "empty", "geo403"])
def test_market_list_faults(poll, fault):
    outcome = poll("indusx-markets", fault=fault)
    assert not outcome.ok
    assert outcome.error.startswith("markets: GET http://api.indus-spot.test/__fault/")


def test_429_is_retried_after_retry_after(poll, engine):
    sleeps = Sleeps()
    outcome = poll("binance-p2p", fault="429_once", sleeps=sleeps)
    assert outcome.ok, outcome.error
    assert 1.0 in sleeps  # the world's Retry-After
    assert len(outcome.ads) == 90
    with Session(engine) as session:
        statuses = [c.status for c in session.exec(select(Capture).where(Capture.run_id == outcome.run_id))]
        run = session.get(Run, outcome.run_id)
    assert statuses.count(429) == 1 and statuses.count(200) == 6  # the 429 is evidence too
    assert run is not None and run.stats["retries"] == 1


def test_persistent_429_gives_up_after_the_configured_retries(poll):
    sleeps = Sleeps()
    outcome = poll("okx-p2p", fault="429", sleeps=sleeps)
    assert not outcome.ok
    assert "HTTP 429" in outcome.error and "still after 1 retries" in outcome.error
    assert sleeps.count(1.0) == 1


def test_oversized_response_fails_the_poll(poll, config):
    outcome = poll("indusx-markets", base_url="http://badhost.test/big")
    assert not outcome.ok
    assert "response larger than" in outcome.error and "badhost.test/big" in outcome.error


@pytest.mark.slow
def test_timeout_is_a_clear_error(tmp_path, proxied, poll):
    cfg = Config(make_config_dir(tmp_path, http={"timeout_seconds": 0.5}), env={"SCANNER_DATA_DIR": str(tmp_path / "d")})
    outcome = poll("okx-p2p", fault="slow", cfg=cfg)
    assert not outcome.ok
    assert "no response (no complete response within 0.5 s (timeout_seconds))" in outcome.error


@pytest.mark.parametrize(("path", "problem"), [
    ("/gzip-corrupt", "corrupt gzip body"),
    ("/gzip-truncated", "no response (response body cut short"),
    ("/error500", "HTTP 500 Internal Server Error, still after 1 retries"),
])
def test_broken_transfers_are_clear_errors(poll, path, problem):
    outcome = poll("indusx-markets", base_url=f"http://badhost.test{path}")
    assert not outcome.ok
    assert problem in outcome.error and f"badhost.test{path}" in outcome.error
