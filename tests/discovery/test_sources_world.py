"""Each discovery source against the simulated web: what becomes a candidate, with source, reason
and evidence; renamed fields, empty answers and rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scanner.evidence.verify import verify
from scanner.store.models import Candidate, Capture, Platform, Run
from tests.pollers.conftest import Sleeps


def _candidates(engine: Engine) -> dict[str, Candidate]:
    with Session(engine) as session:
        return {c.key: c for c in session.exec(select(Candidate))}


def _run(engine: Engine, run_id: int | None) -> Run:
    with Session(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run


EXPECTED = {
    "coingecko": {"pkrx.test"},  # IndusX has PKR tickers too, but is configured; others have no PKR
    "coinpaprika": {"pkrx.test"},  # the same exchanges, PKR read from each one's fiats
    "crtsh": {"usdtpak.test", "pakcoinnews.test", "lahorebits.test", "bitpk.test"},
    "itunes-pk": {"bazaarcoin.test", "pakcoinnews.test"},
    "telegram": {
        "t.me/karachi_usdt_deals",
        "t.me/pkcrypto_support_bot",
        "karachiotc.test",
        "pakcoinnews.test",
        "play.google.com/store/apps/details?id=pk.chaip2p.app",
        "play.google.com/store/apps/details?id=pk.rupeerates.app",
    },
    "finreg-alerts": {"mehranex.test"},
}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_each_source_finds_its_platforms_and_records_why_and_where(source, discover, engine, config):
    outcome = discover(source)
    assert outcome.ok, outcome.error
    assert set(outcome.new) == EXPECTED[source]
    candidates = _candidates(engine)
    assert set(candidates) == EXPECTED[source]
    with Session(engine) as session:
        captures = {c.id: c for c in session.exec(select(Capture).where(Capture.run_id == outcome.run_id))}
        platforms = {p.key: p for p in session.exec(select(Platform))}
    for key, candidate in candidates.items():
        assert candidate.source == source and candidate.sources == [source] and candidate.seen_count == 1
        assert candidate.reason and not candidate.crawled
        # the response that named it is evidence: a capture of this run, at the URL recorded as "where"
        capture = captures[candidate.capture_id]
        assert capture.url == candidate.found_on_url or capture.final_url == candidate.found_on_url
        assert platforms[key].candidate and platforms[key].found_on_url == candidate.found_on_url
    run = _run(engine, outcome.run_id)
    assert (run.kind, run.name, run.status, run.items) == ("discover", source, "ok", len(EXPECTED[source]))
    assert verify(engine, config.data_dir).ok


def test_reasons_say_what_made_a_platform_interesting(discover, engine):
    for source in ("coingecko", "crtsh", "itunes-pk", "telegram", "finreg-alerts"):
        assert discover(source).ok
    reasons = {key: c.reason for key, c in _candidates(engine).items()}
    assert "BTC/PKR" in reasons["pkrx.test"] and "USDT/PKR" in reasons["pkrx.test"]
    assert reasons["usdtpak.test"].startswith("certificate for") and "2026-11-28" in reasons["usdtpak.test"]
    assert "BazaarCoin" in reasons["bazaarcoin.test"] and "PK App Store" in reasons["bazaarcoin.test"]
    # a channel reached from another channel says so
    assert "reached from t.me/pk_crypto_signals" in reasons["karachiotc.test"]
    assert "Mehran Exchange" in reasons["mehranex.test"]


def test_a_platform_seen_again_counts_a_sighting_per_source_not_a_second_candidate(discover, engine):
    assert discover("crtsh").new
    again = discover("crtsh")
    assert again.ok and again.new == [] and again.known == 4  # only new names become candidates
    assert discover("itunes-pk").ok and discover("telegram").ok
    news = _candidates(engine)["pakcoinnews.test"]
    assert news.source == "crtsh" and news.seen_count == 4
    assert news.sources == ["crtsh", "itunes-pk", "telegram"]


def test_crtsh_strips_wildcards_and_keeps_one_lead_per_site(discover):
    outcome = discover("crtsh")
    sites = [lead.url for lead in outcome.leads]
    assert sites.count("http://usdtpak.test/") == 1  # usdtpak.test, www., *., app. are one site
    assert not any("*" in url for url in sites)
    assert "http://coinmarket-global.test/" not in sites and "http://pakfoods.test/" not in sites
    assert outcome.configured == 0 or "http://rupee-exchange.test/" in sites


@pytest.mark.parametrize(
    ("source", "field"),
    [("coingecko", "'target'"), ("coinpaprika", "'fiats'"), ("crtsh", "'name_value'"), ("itunes-pk", "'results'"),
     ("telegram", "tgme_widget_message_text"), ("finreg-alerts", "website")],
)  # fmt: skip
def test_a_renamed_field_fails_the_run_naming_it_and_stores_nothing(source, field, discover, engine):
    outcome = discover(source, fault="schema")
    assert not outcome.ok and field in outcome.error and outcome.error.startswith(source)
    assert _candidates(engine) == {}
    run = _run(engine, outcome.run_id)
    assert run.status == "failed" and field in run.error_summary


def test_an_empty_exchange_list_is_an_error_but_an_empty_search_is_not(discover, engine):
    for source in ("coingecko", "coinpaprika"):
        broken = discover(source, fault="empty")
        assert not broken.ok and "exchange list is empty" in broken.error
    for source in ("crtsh", "itunes-pk", "telegram", "finreg-alerts"):
        outcome = discover(source, fault="empty")
        assert outcome.ok and outcome.leads == [], source
    assert _candidates(engine) == {}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_a_429_is_waited_out_as_retry_after_says(source, discover, engine):
    sleeps = Sleeps()
    outcome = discover(source, fault="429_once", sleeps=sleeps)
    assert outcome.ok, outcome.error
    assert 1.0 in sleeps  # the world's Retry-After: 1
    assert set(outcome.new) == EXPECTED[source]
    assert _run(engine, outcome.run_id).stats["statuses"].get("429") == 1


def test_a_429_that_lasts_fails_the_run_and_stores_nothing(discover, engine):
    outcome = discover("crtsh", fault="429")
    assert not outcome.ok and "HTTP 429" in outcome.error
    assert _candidates(engine) == {}


def test_the_request_budget_stops_a_run_and_says_so(discover):
    outcome = discover("coingecko", max_requests=3)
    assert outcome.ok and outcome.responses == 3
    assert outcome.notes == ["stopped at max_requests=3"]


def test_a_dry_run_writes_nothing(discover, engine):
    outcome = discover("crtsh", store=False)
    assert outcome.ok and outcome.run_id is None and len(outcome.leads) == 4
    assert _candidates(engine) == {}


def test_telegram_reads_channels_crawls_saw_and_skips_names_that_are_no_channel(discover, engine):
    from scanner.findings import ensure_platform

    with Session(engine) as session:
        ensure_platform(session, "t.me/sindhbit")  # a channel a crawled page linked to
        session.commit()
    outcome = discover("telegram")
    assert outcome.ok, outcome.error
    sindhbit = next(lead for lead in outcome.leads if lead.url == "http://sindhbit.test/")
    assert sindhbit.found_on_url == "http://t.me/s/sindhbit" and "'SindhBit'" in sindhbit.reason
    # the bot named in a message has no channel preview: noted, not a failed run
    assert "t.me/pkcrypto_support_bot skipped: HTTP 404" in " ".join(outcome.notes)


def test_a_configured_channel_that_is_gone_fails_the_run(discover, engine):
    outcome = discover("telegram", queries=["no_such_channel_here"])
    assert not outcome.ok and "HTTP 404" in outcome.error and "/s/no_such_channel_here" in outcome.error


def test_sightings_and_sources_are_kept_on_both_databases(database_url, tmp_path, world, monkeypatch):
    from scanner.config import Config
    from scanner.discovery.runner import run_discovery
    from scanner.store.db import open_store
    from tests.pollers.conftest import make_config_dir, use_proxy

    use_proxy(monkeypatch, world)
    config = Config(
        make_config_dir(tmp_path),
        env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url},
    )
    for name in ("crtsh", "itunes-pk", "crtsh"):
        outcome = run_discovery(config, config.targets.source(name), trigger="test", sleep=Sleeps())
        assert outcome.ok, outcome.error
    news = _candidates(open_store(config))["pakcoinnews.test"]
    assert (news.source, news.sources, news.seen_count) == ("crtsh", ["crtsh", "itunes-pk"], 3)


def test_itunes_looks_up_the_sellers_of_apps_crawled_pages_linked(discover, engine):
    from scanner.findings import ensure_platform

    with Session(engine) as session:
        ensure_platform(session, "apps.apple.com/app/id6471002001")  # BazaarCoin's app, seen linked
        ensure_platform(session, "apps.apple.com/app/id6461234001")  # CrescentBit's (a configured site)
        session.commit()
    outcome = discover("itunes-pk", queries=["cricket"])  # a search that finds nothing of interest
    assert outcome.ok, outcome.error
    lead = next(lead for lead in outcome.leads if lead.url == "http://bazaarcoin.test/")
    assert lead.found_on_url.startswith("http://itunes.apple.test/lookup?id=") and lead.capture_id
    assert "linked from a crawled page" in lead.reason
    assert outcome.new == ["bazaarcoin.test"] and outcome.configured == 1


def _seen_linked(engine: Engine, *keys: str) -> None:
    """Platforms a crawled page or a channel linked to (what the crawls leave behind)."""
    from scanner.findings import ensure_platform

    with Session(engine) as session:
        for key in keys:
            ensure_platform(session, key)
        session.commit()


CHAI = "play.google.com/store/apps/details?id=pk.chaip2p.app"
RATES = "play.google.com/store/apps/details?id=pk.rupeerates.app"


def test_googleplay_reads_the_listings_of_apps_crawled_pages_linked(discover, engine, world):
    _seen_linked(engine, CHAI, RATES, "play.google.com/store/apps/details?id=com.rupeex.app",
                 "play.google.com/store/apps/details?id=pk.gone.app")  # fmt: skip
    outcome = discover("googleplay-pk")
    assert outcome.ok, outcome.error
    # the developers' websites are the leads; RupeeX's is configured (dropped), the gone app is noted
    assert sorted(outcome.new) == ["chaip2p.test", "rupeerates.test"] and outcome.configured == 1
    chai = next(lead for lead in outcome.leads if lead.url == "http://chaip2p.test/")
    assert (
        "'Chai P2P: Buy USDT in PKR' (pk.chaip2p.app, by Chai Labs, 50K+ downloads, finance, Urdu listing)"
        in chai.reason
    )
    rates = next(lead for lead in outcome.leads if lead.url == "http://rupeerates.test/")
    assert "Urdu listing" not in rates.reason and "100K+ downloads" in rates.reason
    assert "pk.gone.app skipped: HTTP 404" in " ".join(outcome.notes)
    # each listing is read as a Pakistani visitor sees it, in English and in Urdu, both kept as evidence
    with Session(engine) as session:
        urls = [c.url for c in session.exec(select(Capture).where(Capture.run_id == outcome.run_id))]
    chai_urls = [u for u in urls if "pk.chaip2p.app" in u]
    assert len(chai_urls) == 2 and all("gl=PK" in u for u in chai_urls)
    assert {u.split("hl=")[1][:2] for u in chai_urls} == {"en", "ur"}
    assert chai.capture_id is not None and "hl=en" in chai.found_on_url


@pytest.mark.parametrize(
    ("fault", "problem"), [("schema", "missing field 'author'"), ("empty", "no JSON-LD SoftwareApplication")]
)
def test_googleplay_a_changed_or_empty_detail_page_fails_naming_what_is_missing(
    fault, problem, discover, engine
):
    _seen_linked(engine, CHAI)
    outcome = discover("googleplay-pk", fault=fault)
    assert not outcome.ok and problem in outcome.error and "pk.chaip2p.app" in outcome.error
    assert _candidates(engine) == {} and _run(engine, outcome.run_id).status == "failed"


def test_googleplay_waits_out_a_429_and_a_lasting_one_fails(discover, engine):
    _seen_linked(engine, CHAI)
    sleeps = Sleeps()
    outcome = discover("googleplay-pk", fault="429_once", sleeps=sleeps)
    assert outcome.ok and outcome.new == ["chaip2p.test"] and 1.0 in sleeps
    again = discover("googleplay-pk", fault="429")
    assert not again.ok and "HTTP 429" in again.error


def test_googleplay_with_no_linked_app_reads_nothing(discover, engine):
    outcome = discover("googleplay-pk")
    assert outcome.ok and outcome.responses == 0 and outcome.leads == []
