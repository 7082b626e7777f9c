"""Findings from polls, suspicious prices, and the payment-method map as validated data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.config import Config, ConfigError
from scanner.pollers.rails import load_rails
from scanner.store.models import Finding, P2PAd, Platform, Signal

from .conftest import make_config_dir


def _finding(engine, key: str) -> tuple[Finding, list[Signal]]:
    with Session(engine) as session:
        platform = session.exec(select(Platform).where(Platform.key == key)).one()
        finding = session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()
        signals = list(session.exec(select(Signal).where(Signal.finding_id == finding.id)))
    return finding, signals


def test_unlicensed_platform_with_pkr_ads_is_flagged_with_rails_as_signals(poll, engine):
    outcome = poll("bybit-p2p")
    assert outcome.ok, outcome.error
    finding, signals = _finding(engine, "bybit.test")  # the target's platform, not api2.bybit.test
    assert finding.verdict == "flag" and outcome.verdict == "flag"
    rails = {s.value for s in signals if s.kind == "payment_rail"}
    assert {"Easypaisa", "JazzCash"} <= rails
    assert any(s.kind == "pkr_market" for s in signals)
    assert all(s.capture_id is not None for s in signals if s.kind == "payment_rail")


def test_pkr_markets_flag_and_a_market_list_without_pkr_does_not(poll, engine):
    assert poll("indusx-markets").verdict == "flag"
    assert _finding(engine, "indus-spot.test")[0].verdict == "flag"
    assert poll("globex-markets").verdict == "clear"


def test_prices_outside_the_band_are_kept_and_marked(tmp_path, proxied, poll):
    # The world quotes USDT/PKR between 284 and 296; a narrow band makes some of them implausible.
    cfg = Config(make_config_dir(tmp_path, p2p={"price_band_pkr": [288, 292]}),
                 env={"SCANNER_DATA_DIR": str(tmp_path / "data")})
    outcome = poll("okx-p2p", cfg=cfg)
    assert outcome.ok, outcome.error
    from scanner.store.db import open_store

    with Session(open_store(cfg)) as session:
        ads = list(session.exec(select(P2PAd)))
    assert len(ads) == 64  # kept, not dropped
    marked = [a for a in ads if a.suspicious_price]
    assert marked and len(marked) < len(ads)
    assert all(not 288 <= a.price <= 292 for a in marked)
    assert all(288 <= a.price <= 292 for a in ads if not a.suspicious_price)
    assert outcome.summary()["suspicious_prices"] == len(marked)


def test_payment_method_map_is_validated(tmp_path: Path):
    path = tmp_path / "p2p_payment_methods.yaml"
    path.write_text("rails:\n  - name: Easypaisa\n    identifiers: [EasypaisaPK]\n"
                    "  - name: JazzCash\n    identifiers: [JazzCash, easypaisa_pk]\n")
    with pytest.raises(ConfigError, match=r"p2p_payment_methods.yaml: .*'easypaisa_pk' is listed under both"):
        load_rails(path)
    path.write_text("rails:\n  - name: Easypaisa\n    identifier: [EasypaisaPK]\n")
    with pytest.raises(ConfigError, match=r"rails\[0\]\.identifiers: required key is missing"):
        load_rails(path)


def test_shipped_map_knows_the_pakistani_identifiers():
    rails = load_rails(Path(__file__).resolve().parents[2] / "config" / "lexicons" / "p2p_payment_methods.yaml")
    assert rails.rail("EasypaisaPK").name == "Easypaisa" and rails.rail("EasypaisaPK").pakistani
    assert rails.rail("UnitedBankLimited").name == "United Bank Limited"
    assert rails.rail("BANK").name == "Bank transfer"
    assert rails.rail("jazzcash").name == "JazzCash"
    # Unknown and foreign identifiers stay themselves, not Pakistani.
    assert rails.rail("UPI").name == "UPI" and not rails.rail("UPI").pakistani
    # A look-alike (here a zero-width space and a right-to-left override) is written out for the
    # officers' charts and the banks' rails.json; a known rail's spelling with them is that rail.
    assert rails.rail("Easy\u200bpa\u202eisa Plus").name == "Easy\\u200bpa\\u202eisa Plus"
    assert rails.rail("Jazz\u200bCash").name == "JazzCash"
    assert len(rails.rail("x" * 10_000).name) == 64


def test_poller_rail_names_are_the_detection_lexicon_names() -> None:
    """Feeds, the demo and the review UI must show one name per rail, whichever part saw it."""
    from scanner.config import parse_model, read_yaml
    from scanner.detection.lexicon import RailsLexicon
    from scanner.pollers.rails import rails_for
    from tests.conftest import REPO_ROOT

    config = Config(REPO_ROOT / "config", env={})
    path = config.lexicon_dir / "rails.yaml"
    lexicon = parse_model(RailsLexicon, read_yaml(path), path)
    canonical = {term.name for group in (lexicon.wallets, lexicon.rails, lexicon.banks) for term in group}
    generic = {"Bank transfer", "Cash deposit"}  # methods, not brands: detection has no rail for them
    assert rails_for(config).pakistani - generic <= canonical
