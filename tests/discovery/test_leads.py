"""Leads from what crawls, channels and polls already see: WhatsApp numbers and P2P merchants are
contacts that tie platforms together (scanner.discovery.leads), never candidate platforms."""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.discovery.leads import lead_rows, merchant_key, name_key, phone_of, record_sighting
from scanner.store.models import Candidate, Platform, Sighting
from scanner.web import create_app
from tests.crawl.conftest import scanner
from tests.pollers.conftest import poller
from tests.web.reviewkit import login, make_config, seed


@pytest.mark.parametrize(
    ("url", "phone"),
    [
        ("https://wa.me/923009998877", "+923009998877"),
        ("https://wa.me/+92 300 999-8877?text=USDT", "+923009998877"),
        ("https://api.whatsapp.com/send?phone=923001234567&text=hi", "+923001234567"),
        ("https://www.whatsapp.com/send/?phone=0092-300-1234567", "+923001234567"),
        ("https://wa.me/03001234567", "+923001234567"),  # a Pakistani mobile as dialled at home
        ("https://wa.me/message/ABCDEFGH", None),  # a short link names no number
        ("https://chat.whatsapp.com/InviteCode123", None),
        ("https://wa.me/123", None),
        ("https://t.me/923001234567", None),  # not WhatsApp
    ],
)
def test_a_whatsapp_link_names_a_number_in_one_form(url, phone):
    assert phone_of(url) == phone


def test_nicknames_that_differ_in_case_and_punctuation_are_one_merchant():
    assert (
        merchant_key("KarachiOTC")
        == merchant_key("Karachi OTC")
        == merchant_key("karachi_otc")
        == "karachiotc"
    )
    assert merchant_key("Ali") is None  # too short to tie anything together


def test_a_platform_is_named_like_a_merchant_by_its_own_label_or_channel_name():
    assert name_key("karachiotc.test") == name_key("t.me/karachi_otc") == "karachiotc"
    assert name_key("karachi-otc.com.pk") == "karachiotc"
    assert name_key("play.google.com/store/apps/details?id=pk.karachiotc") is None  # an app id is no name


def test_a_number_in_a_channel_message_is_a_contact_of_the_channel_not_a_candidate(discover, engine):
    outcome = discover("telegram")
    assert outcome.ok, outcome.error
    assert outcome.contacts == 1 and not any(key.startswith("wa.me") for key in outcome.new)
    with Session(engine) as session:
        assert session.exec(select(Candidate).where(Candidate.key.startswith("wa.me"))).first() is None
        assert session.exec(select(Platform).where(Platform.key.startswith("wa.me"))).first() is None
        (sighting,) = session.exec(select(Sighting))
    assert (sighting.kind, sighting.value, sighting.platform) == (
        "phone",
        "+923009998877",
        "t.me/karachi_usdt_deals",
    )
    assert (
        sighting.source == "telegram"
        and sighting.url == "http://t.me/s/karachi_usdt_deals"
        and sighting.capture_id
    )


def test_one_desk_advertising_on_two_exchanges_is_one_merchant_seen_on_both(config, engine):
    poll = poller(config)
    for name in ("binance-p2p", "bybit-p2p", "binance-p2p"):
        outcome = poll(name)
        assert outcome.ok, outcome.error
    with Session(engine) as session:
        rows = {row["key"]: row for row in lead_rows(session)}
    desk = rows["merchant:karachiotc"]
    # first the contacts that tie most platforms together
    assert next(iter(rows)) == "merchant:karachiotc"
    assert sorted(place["platform"] for place in desk["seen_on"]) == ["binance.test", "bybit.test"]
    assert (
        desk["sources"] == ["p2p-ads"] and desk["seen_count"] == 3
    )  # binance polled twice: counted, not doubled
    binance = next(place for place in desk["seen_on"] if place["platform"] == "binance.test")
    assert (
        binance["capture_id"]
        and binance["detail"].startswith("s")
        and binance["url"] == "http://p2p.binance.test/"
    )
    assert all(row["kind"] == "merchant" for row in rows.values())
    assert desk["named_like"] == []  # no platform of that name is known yet
    from scanner.findings import ensure_platform

    with Session(engine) as session:
        ensure_platform(session, "karachiotc.test")  # the desk's own site, found by discovery
        session.commit()
        assert lead_rows(session)[0]["named_like"] == ["karachiotc.test"]


def test_candidates_lists_contacts_with_every_platform_they_were_seen_on(config, engine, discover):
    assert discover("telegram").ok
    with Session(engine) as session:
        record_sighting(session, kind="phone", value="+923009998877", platform="karachiotc.test",
                        url="http://karachiotc.test/contact", source="crawl-links")  # fmt: skip
        record_sighting(session, kind="merchant", value="[red]Karachi OTC[/red]", platform="okx.test",
                        url="http://www.okx.test", source="p2p-ads")  # fmt: skip
        session.commit()
    env = {**os.environ, "SCANNER_CONFIG_DIR": str(config.dir), "SCANNER_DATA_DIR": str(config.data_dir)}
    env.pop("SCANNER_DATABASE_URL", None)
    listed = scanner(env, "candidates", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {row["kind"] for row in rows} == {"platform", "phone", "merchant"}
    phone = next(row for row in rows if row["kind"] == "phone")
    assert phone["value"] == "+923009998877" and phone["platforms"] == 2
    assert [p["platform"] for p in phone["seen_on"]] == ["t.me/karachi_usdt_deals", "karachiotc.test"]
    table = scanner({**env, "COLUMNS": "250"}, "candidates")
    assert table.returncode == 0 and "Contacts (not platforms)" in table.stdout
    assert "[red]Karachi OTC[/red]" in table.stdout  # a nickname is shown as written, never as markup


def test_the_finding_page_shows_where_else_its_contacts_were_seen_escaped(tmp_path):
    seeded = seed(make_config(tmp_path))
    with Session(seeded.engine) as session:
        for platform, url in (
            ("fastcoin.test", "http://fastcoin.test/contact"),
            ("slowex.test", "http://slowex.test/"),
        ):
            record_sighting(session, kind="phone", value="+923001234567", platform=platform, url=url,
                            source="crawl-links", capture_id=seeded.captures["fastcoin"] if platform == "fastcoin.test" else None)  # fmt: skip
        record_sighting(session, kind="merchant", value="Fast<Desk>", platform="fastcoin.test",
                        url="http://api.fastcoin.test/p2p", source="p2p-ads")  # fmt: skip
        record_sighting(session, kind="merchant", value="fastdesk", platform="t.me/fastdesk_pk",
                        url="http://t.me/s/fastdesk_pk", source="telegram")  # fmt: skip
        session.commit()
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    page = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    assert 'id="contacts"' in page and "WhatsApp <code>+923001234567</code>" in page
    # the other platform with the same number links to its finding; one no finding judged says so
    assert f'<a href="/review/findings/{seeded.findings["slowex"]}">slowex.test</a>' in page
    assert "t.me/fastdesk_pk <small>no finding yet</small>" in page
    assert f'<a href="/review/captures/{seeded.captures["fastcoin"]}?finding=' in page
    assert "Fast&lt;Desk&gt;" in page and "<Desk>" not in page  # captured text escaped
    other = client.get(f"/review/findings/{seeded.findings['slowex']}").text
    assert 'id="contacts"' in other and "fastcoin.test" in other


def test_the_finding_page_shows_the_merchants_named_like_its_platform(tmp_path):
    seeded = seed(make_config(tmp_path))
    with Session(seeded.engine) as session:
        for platform in ("binance.test", "bybit.test"):  # the desk behind ads on two exchanges
            record_sighting(session, kind="merchant", value="Fast_Coin", platform=platform,
                            url=f"http://api.{platform}/p2p", source="p2p-ads")  # fmt: skip
        session.commit()
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    page = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    assert 'id="contacts"' in page and "P2P merchant <code>Fast_Coin</code>" in page
    assert "named like this platform" in page
    assert "binance.test <small>no finding yet</small>" in page and "bybit.test" in page


def test_contacts_are_counted_and_connected_on_both_databases(database_url):
    from scanner.store.db import make_engine, upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        for platform, source in (
            ("binance.test", "p2p-ads"),
            ("bybit.test", "p2p-ads"),
            ("binance.test", "p2p-ads"),
        ):
            record_sighting(session, kind="merchant", value="Karachi_OTC", platform=platform,
                            url=f"http://{platform}/", source=source)  # fmt: skip
        record_sighting(session, kind="phone", value="+923009998877", platform="t.me/karachi_usdt_deals",
                        url="http://t.me/s/karachi_usdt_deals", source="telegram")  # fmt: skip
        session.commit()
        rows = {row["key"]: row for row in lead_rows(session)}
        stored = session.exec(select(Sighting).where(Sighting.platform == "binance.test")).one()
    assert rows["merchant:karachiotc"]["platforms"] == 2 and rows["merchant:karachiotc"]["seen_count"] == 3
    assert stored.seen_count == 2 and stored.last_seen >= stored.first_seen
    assert rows["phone:+923009998877"]["seen_on"][0]["platform"] == "t.me/karachi_usdt_deals"


def test_a_mobile_number_two_sites_write_in_their_text_is_one_contact_of_both(config, engine):
    """Before: only WhatsApp links named contacts; a desk number written as text tied nothing together."""
    from scanner.observation import ObservationWriter, rules_for

    rules = rules_for(config)
    pages = {
        "http://rupeedesk.test/contact": "Buy USDT with JazzCash. WhatsApp 0300-1234567 for PKR rates.",
        "http://usdt-lahore.test/": "USDT/PKR sellers online. Call +92 300 1234567, office (042) 3575 1234.",
        "http://mcb-like.test/help": "Helpline 111-000-622 and (021) 3456 7890, Monday to Friday.",
    }
    seen = [
        rules.observe(url, "text/html", f"<html><body><p>{text}</p></body></html>".encode())
        for url, text in pages.items()
    ]
    ObservationWriter(engine, rules, None).store(seen)
    with Session(engine) as session:
        rows = {row["key"]: row for row in lead_rows(session)}
        kept = session.exec(select(Sighting)).all()
    desk = rows["phone:+923001234567"]
    assert desk["platforms"] == 2
    assert {p["platform"] for p in desk["seen_on"]} == {"rupeedesk.test", "usdt-lahore.test"}
    assert {s.source for s in kept} == {"page-text"} and all(s.capture_id is None for s in kept)
    assert [s.value for s in kept if s.platform == "mcb-like.test"] == []  # landlines and help lines are not contacts
