"""Register matching (domains, subdomains, aliases, statuses) and platform keys."""

from __future__ import annotations

import pytest

from scanner.config import Register, RegisteredPlatform
from scanner.detection import Document, aggregate, analyze, match_register, platform_key

from .conftest import corpus_document


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://www.rupee-exchange.test/x", "rupee-exchange.test"),
        ("https://p2p.binance.com/en/trade/all-payments/USDT?fiat=PKR", "binance.com"),
        ("https://a.b.example.com.pk/path", "example.com.pk"),
        ("https://shop.co.uk", "shop.co.uk"),
        ("https://t.me/RupeeXchange", "t.me/rupeexchange"),
        ("https://t.me/s/rupeexchange/123", "t.me/rupeexchange"),
        ("https://telegram.me/rupeexchange", "telegram.me/rupeexchange"),
        ("https://play.google.com/store/apps/details?id=pk.rupee.app&hl=ur&gl=PK", "play.google.com/store/apps/details?id=pk.rupee.app"),
        ("https://apps.apple.com/pk/app/rupee-exchange/id1234567890", "apps.apple.com/app/id1234567890"),
        ("https://www.facebook.com/RupeeX.pk/posts/1", "facebook.com/rupeex.pk"),
        ("https://instagram.com/rupeex/", "instagram.com/rupeex"),
        ("https://twitter.com/rupeex/status/1", "x.com/rupeex"),
        ("https://x.com/rupeex", "x.com/rupeex"),
        ("https://www.youtube.com/@RupeeX/videos", "youtube.com/@rupeex"),
        ("https://www.tiktok.com/@rupeex/video/1", "tiktok.com/@rupeex"),
        ("https://wa.me/923001234567", "wa.me/923001234567"),
        ("https://linktr.ee/rupeex", "linktr.ee/rupeex"),
        ("http://127.0.0.1:8000/x", "127.0.0.1"),
        ("http://localhost:8000/x", "localhost"),
        ("rupee-exchange.test", "rupee-exchange.test"),
        # Internationalised hosts in their ASCII form: a Cyrillic "і" is not binance.com to officers
        # or banks (the feeds refused the Unicode form, so a confirmed look-alike was never listed);
        # full-width letters are the name they resolve to.
        ("http://b\u0456nance.com/", "xn--bnance-pvf.com"),
        ("http://\uff42\uff49\uff4e\uff41\uff4e\uff43\uff45.com/", "binance.com"),
        ("https://\uff54.\uff4d\uff45/rupee", "t.me/rupee"),
    ],
)
def test_platform_key(url: str, key: str) -> None:
    assert platform_key(url) == key


def test_register_domains_subdomains_aliases(register: Register) -> None:
    assert match_register("https://www.qasim-digital.test/", register).licensed  # type: ignore[union-attr]
    sub = match_register("https://p2p.api.qasim-digital.test/x", register)
    assert sub is not None and sub.licensed and "domain qasim-digital.test" in sub.how
    alias = match_register("https://t.me/QasimDigital", register)
    assert alias is not None and alias.licensed and alias.how.startswith("alias")
    noc = match_register("https://c2c.binance.com/ru/trade", register)
    assert noc is not None and noc.status == "noc" and not noc.licensed
    assert match_register("https://huobi.com/", register).status == "noc"  # type: ignore[union-attr]
    assert not match_register("https://suspended-coin.test/", register).licensed  # type: ignore[union-attr]
    assert match_register("https://notbinance.com/", register) is None
    assert match_register("https://binance.com.evil.test/", register) is None
    assert match_register("https://qasim-digital.test.evil.test/", register) is None
    assert match_register("https://anything.test/", None) is None


def test_revoked_licence_does_not_clear(lexicons) -> None:  # type: ignore[no-untyped-def]
    reg = Register(platforms=[RegisteredPlatform(name="Zar", domains=["zarcoin.test"], status="revoked")])
    result = analyze(corpus_document("p04_markets_pkr.html"), lexicons, reg)
    assert result.verdict == "flag" and result.licence_status == "revoked" and not result.licensed


def test_register_alias_does_not_match_page_text(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # A clone that calls itself the licensed brand is not cleared by saying so.
    body = corpus_document("l01_licensed_exchange.html").body
    clone = analyze(Document("https://qasim-digital-login.test/", "text/html", body), lexicons, register)
    assert clone.verdict == "flag" and not clone.licensed


def test_aggregate_combines_pages(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    service = analyze(corpus_document("agg_a_service.html"), lexicons, register)
    contact = analyze(corpus_document("agg_b_contact.html"), lexicons, register)
    assert service.verdict == contact.verdict == "clear"
    platform = aggregate("sabz-exchange.test", [contact, service], lexicons, register)
    assert platform.verdict == "flag"
    assert platform.crypto_service and platform.targets_pakistan and not platform.licensed
    assert platform.platform == "sabz-exchange.test"
    assert {s.source for s in platform.signals} == {service.source, contact.source}
    assert platform.to_json()["signals"][0]["source"]
    assert aggregate("sabz-exchange.test", [service, contact], lexicons, register).to_json() == platform.to_json()


def test_aggregate_news_page_does_not_cancel_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    service = analyze(corpus_document("p04_markets_pkr.html", "https://zarcoin.test/m"), lexicons, register)
    news = analyze(corpus_document("n01_crypto_news_en.html", "https://zarcoin.test/blog"), lexicons, register)
    assert aggregate("zarcoin.test", [news, service], lexicons, register).verdict == "flag"


def test_aggregate_licensed_and_empty(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    pages = [analyze(corpus_document(n), lexicons, register) for n in ("l01_licensed_exchange.html", "l02_licensed_app_listing.html")]
    result = aggregate("qasim-digital.test", pages, lexicons, register)
    assert result.verdict == "clear" and result.licensed
    empty = aggregate("nothing.test", [], lexicons, register)
    assert empty.verdict == "clear" and empty.signals == []
