"""Each adapter against the simulated APIs: pagination, both sides, rail mapping, markets."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scanner.config import Config
from scanner.evidence.verify import verify
from scanner.pollers.storage import exposure
from scanner.store.models import Capture, P2PAd, PollSnapshot, Run

from .conftest import Sleeps, make_config_dir


def _ads(engine: Engine, snapshot_id: int | None) -> list[P2PAd]:
    with Session(engine) as session:
        return list(session.exec(select(P2PAd).where(P2PAd.snapshot_id == snapshot_id)))


def test_binance_pages_through_both_sides_and_maps_rails(poll, engine, config):
    outcome = poll("binance-p2p")
    assert outcome.ok, outcome.error
    # The world serves 45 PKR ads per side, at most 20 a page: 3 pages a side.
    assert len(outcome.ads) == 90
    assert {ad.side for ad in outcome.ads} == {"buy", "sell"}
    assert outcome.responses == 6
    ads = _ads(engine, outcome.polls[0].snapshot_id)
    assert len(ads) == 90 and len({a.ad_id for a in ads}) == 90
    assert all(a.fiat == "PKR" and a.asset == "USDT" for a in ads)
    pairs = {(raw, rail) for a in ads for raw, rail in zip(a.raw_payment_methods, a.payment_methods, strict=True)}
    assert ("EasypaisaPK", "Easypaisa") in pairs
    assert ("UnitedBankLimited", "United Bank Limited") in pairs
    assert ("MeezanBank", "Meezan Bank") in pairs
    assert ("BANK", "Bank transfer") in pairs
    assert all(a.merchant_id.startswith("s") and a.merchant_name for a in ads)
    assert all(a.completion_rate is not None and 0 <= a.completion_rate <= 1 for a in ads)
    with Session(engine) as session:
        run = session.get(Run, outcome.run_id)
        assert run is not None and run.status == "ok" and run.kind == "poll" and run.items == 90
        captures = list(session.exec(select(Capture).where(Capture.run_id == outcome.run_id)))
    assert len(captures) == 6 and all(c.method == "POST" and c.status == 200 for c in captures)
    assert {a.capture_id for a in ads} <= {c.id for c in captures}
    report = verify(engine, config.data_dir)
    assert report.ok and report.checked == 6


def test_okx_reads_both_books_and_lower_case_methods(poll, engine):
    outcome = poll("okx-p2p")
    assert outcome.ok, outcome.error
    assert len(outcome.ads) == 64 and outcome.responses == 2  # 32 a side, OKX does not page
    assert {ad.side for ad in outcome.ads} == {"buy", "sell"}
    rails = {rail for ad in outcome.ads for rail in ad.payment_methods}
    assert {"Easypaisa", "JazzCash", "Raast", "Bank transfer"} <= rails
    assert not rails - {"Easypaisa", "JazzCash", "Raast", "Bank transfer", "SadaPay", "NayaPay"}


def test_bybit_maps_numeric_payment_ids_through_the_payment_list(poll, engine):
    outcome = poll("bybit-p2p")
    assert outcome.ok, outcome.error
    assert len(outcome.ads) == 74  # 37 a side, 20 a page: 2 pages a side, plus the payment list
    assert outcome.responses == 5
    assert {ad.side for ad in outcome.ads} == {"buy", "sell"}
    # Payment id 377 is "Easypaisa" in the world's payment list.
    assert any("Easypaisa" in a.raw_payment_methods for a in outcome.ads)
    rails = {rail for ad in outcome.ads for rail in ad.payment_methods}
    assert {"Easypaisa", "JazzCash", "Raast", "Meezan Bank", "Bank transfer"} <= rails
    assert all(a.completion_rate is not None and a.completion_rate <= 1 for a in outcome.ads)


def test_market_lists_in_every_shape_give_the_pkr_pairs(poll, engine):
    expected = ["BTC/PKR", "ETH/PKR", "SOL/PKR", "USDT/PKR"]
    for name in ("indusx-markets", "indusx-ccxt-markets", "indusx-tickers"):
        outcome = poll(name)
        assert outcome.ok, outcome.error
        assert outcome.markets == expected, name
    globex = poll("globex-markets")
    assert globex.ok and globex.markets == []
    with Session(engine) as session:
        snapshots = list(session.exec(select(PollSnapshot).where(PollSnapshot.adapter == "markets")))
    assert sorted(len(s.markets) for s in snapshots) == [0, 4, 4, 4]


def test_exposure_per_platform_and_rail_over_time(poll, engine):
    first = poll("binance-p2p")
    second = poll("binance-p2p")
    assert first.ok and second.ok
    with Session(engine) as session:
        points = exposure(session)
        latest = exposure(session, latest=True)
        platform_id = points[0].platform_id
        assert exposure(session, platform_id=platform_id + 999) == []
    assert {p.snapshot_id for p in points} == {first.polls[0].snapshot_id, second.polls[0].snapshot_id}
    assert {p.snapshot_id for p in latest} == {second.polls[0].snapshot_id}
    easypaisa = next(p for p in latest if p.rail == "Easypaisa")
    ads_with_it = [a for a in second.ads if "Easypaisa" in a.payment_methods]
    assert easypaisa.platform == "binance.test" and easypaisa.pakistani
    assert easypaisa.ads == len(ads_with_it)
    assert easypaisa.merchants == len({a.merchant_id for a in ads_with_it})
    assert abs(easypaisa.available_fiat - sum(a.available * a.price for a in ads_with_it)) < 1.0
    assert 270 < (easypaisa.median_price or 0) < 310


def test_requests_are_spaced_by_the_configured_rate(tmp_path, proxied, poll):
    cfg = Config(make_config_dir(tmp_path, p2p={"requests_per_second": 0.1}),
                 env={"SCANNER_DATA_DIR": str(tmp_path / "data")})
    sleeps = Sleeps()
    outcome = poll("okx-p2p", cfg=cfg, sleeps=sleeps, store=False)
    assert outcome.ok, outcome.error
    # Two requests (buy and sell books) 10 s apart: one wait of nearly 10 s before the second.
    assert len(sleeps) == 1 and 5 < sleeps[0] <= 10


def test_poll_snapshot_and_finding_on_both_database_backends(tmp_path, proxied, poll, database_url):
    cfg = Config(make_config_dir(tmp_path),
                 env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url})
    outcome = poll("bybit-p2p", cfg=cfg)
    assert outcome.ok, outcome.error
    from scanner.store.db import open_store

    engine = open_store(cfg)
    with Session(engine) as session:
        snapshot = session.get(PollSnapshot, outcome.polls[0].snapshot_id)
        assert snapshot is not None and snapshot.ads == 74 and snapshot.rails["Easypaisa"]["pakistani"] is True
        assert len(exposure(session, platform_id=snapshot.platform_id)) == len(snapshot.rails)
    assert outcome.verdict == "flag"
    assert verify(engine, cfg.data_dir).ok
