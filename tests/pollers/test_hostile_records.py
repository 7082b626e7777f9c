"""Ads an exchange API can send that the adapter cannot read, among readable ones: a price "NaN",
1e999999 or an object, an order count of 1e300, a price and a quantity of 1e200 (their product, the
ad's volume, is infinite), an item that is not an object. Each is left out with
its problem named, the others are kept, and the run says it is degraded; a nickname holding NUL and a
lone surrogate is stored with U+FFFD, on SQLite and on PostgreSQL.

Before, the first unreadable ad failed the whole poll (the last snapshot stayed the latest), and a
count of 1e300, an infinite volume or a NUL got as far as the database: the poll's transaction failed
(a NUL and "Infinity" in the snapshot's JSON on PostgreSQL only, where an order count from 2**31 on
failed it too)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from scanner.config import Config
from scanner.store.db import open_store
from scanner.store.models import P2PAd, Run

from .conftest import make_config_dir

P2P = ["binance-p2p", "okx-p2p", "bybit-p2p"]
PROBLEMS = (
    "field 'price' is not a finite number ('NaN')",
    "field 'price' is not a finite number (inf)",
    "field 'price' should be a number, got {'value': '280'}",
    "is out of range (1e+300)",
    "field 'price' is out of range ('1e200')",
    "expected an object, got str",
)


@pytest.mark.parametrize("name", P2P)
def test_unreadable_ads_are_left_out_and_named_and_the_rest_kept(name, poll, engine) -> None:
    clean = poll(name)
    outcome = poll(name, fault="hostile_records")
    assert outcome.ok, outcome.error
    left_out = len(outcome.rejected)  # every page of each side carries unreadable ads
    assert left_out >= 2 * 4 and len(outcome.ads) == len(clean.ads) - left_out
    with Session(engine) as session:
        run = session.get(Run, outcome.run_id)
        assert run is not None and run.status == "degraded"
        names = {ad.merchant_name for ad in session.exec(select(P2PAd).where(P2PAd.snapshot_id.in_(  # type: ignore[union-attr]
            [poll.snapshot_id for poll in outcome.polls])))}  # fmt: skip
    summary = run.error_summary
    assert summary.startswith(f"{name.replace('-', '_')}: {left_out} records left out: ")
    for problem in PROBLEMS:
        assert problem in summary, (problem, summary)
    assert "Karachi\ufffdOTC\ufffd" in names


def test_a_nickname_postgresql_cannot_hold_is_stored_visibly(tmp_path, proxied, poll, database_url) -> None:
    cfg = Config(make_config_dir(tmp_path),
                 env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url})  # fmt: skip
    outcome = poll("okx-p2p", fault="hostile_records", cfg=cfg)
    assert outcome.ok, outcome.error
    with Session(open_store(cfg)) as session:
        names = {ad.merchant_name for ad in session.exec(select(P2PAd))}
        run = session.get(Run, outcome.run_id)
    assert "Karachi\ufffdOTC\ufffd" in names
    assert run is not None and run.status == "degraded"
