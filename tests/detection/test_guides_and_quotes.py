"""Quotes, exchange products and operating guides (issue 12, dev round "guides and quotes").

- A PKR pair is a quote, a market offered in rupees, when a price stands next to it; named in a
  sentence it is a weaker mention (an education blog on what moves "the BTC/PKR rate" was flagged).
- Two products of a crypto exchange named together (P2P next to its ad posting or spot trading) are
  something crypto without a coin: a PKR P2P ad form, an exchange's PKR deposit page. One alone is
  not (banks' Raast P2P, a fiat P2P currency exchange).
- An operating guide for one platform (a how-to heading naming one exchange, the exchange's own
  help centre) is a service by the label rule even when it opens as an explainer: its education
  cues are listed, not counted. The same explainer elsewhere still counts them.
"""

from __future__ import annotations

from scanner.detection import Document, analyze

from .conftest import analyze_text


def _html(url: str, body: str, lexicons, register):  # type: ignore[no-untyped-def]
    page = f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'></head><body>{body}</body></html>"
    return analyze(Document(url, "text/html", page.encode()), lexicons, register)


def _values(result, kind: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {s.value for s in result.signals if s.kind == kind}


def _reasons(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(result.explanation["crypto_service"])


RATE_ESSAY = (
    "What moves the Bitcoin to PKR exchange rate\n"
    "My cousin in Lahore wanted to buy his first bitcoin and asked why the local P2P app showed a "
    "different price than Google. There is no official rate: unlike the USD/PKR rate, which the "
    "State Bank of Pakistan manages, the BTC/PKR rate is set by the market and the economy."
)


def test_a_pkr_pair_named_in_an_essay_is_a_mention_not_a_quote(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://blog.example/bitcoin-pkr-rate", RATE_ESSAY, lexicons, register)
    assert _values(result, "pkr_market") == {"BTC/PKR named (no price next to it)"}
    assert result.targets_pakistan
    assert not result.crypto_service
    assert result.verdict == "clear"


def test_a_pkr_pair_with_its_price_is_a_quote(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://coins.example/",
        "Buy crypto in minutes\nBTC/PKR 31,550,000\nUSDT/PKR 289.40\nBuy now",
        lexicons,
        register,
    )
    assert {"BTC/PKR", "USDT/PKR"} <= _values(result, "pkr_market")
    assert "for: pkr_market 'BTC/PKR' (weight" in _reasons(result)
    assert result.verdict == "flag"


P2P_AD_FORM = """
<nav><a href="/fast-trade">Fast Trade</a><a href="/p2p">P2P</a><span>Create Offer</span></nav>
<form><h2>Create Offer</h2>
<label>Price per Dollar (PKR):</label><input placeholder="Enter dollar rate"/>
<label>Order limit:</label><input placeholder="Enter limit"/>
<label>Payment Method:</label><select><option>EasyPaisa</option><option>JazzCash</option></select>
<label>Category:</label><select><option>Buy</option><option>Sell</option></select>
<button>Create Offer</button></form>
"""


def test_a_pkr_p2p_ad_form_naming_no_coin_is_a_crypto_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = _html("https://p2p.example/create-offer", P2P_AD_FORM, lexicons, register)
    assert not _values(result, "crypto_asset")  # no coin, no pair
    assert result.crypto_service
    assert result.verdict == "flag"
    assert (
        "something crypto: a crypto exchange's products named together: P2P ad posting ('create offer'), P2P ('p2p')"
        in _reasons(result)
    )


def test_an_exchanges_pkr_deposit_page_naming_no_coin_is_a_crypto_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    body = (
        "<h2>Add funds</h2><p>Send rupees to our account by Raast or IBFT with your user ID as reference.</p>"
        "<p>Bank: Meezan Bank · IBAN PK36SCBL0000001123456702</p>"
        "<p>Your balance is available for spot trading and P2P once credited.</p>"
    )
    result = _html("https://exchange.example/funds/deposit", body, lexicons, register)
    assert result.verdict == "flag"
    assert "spot trading ('spot trading'), P2P ('p2p')" in _reasons(result)


def test_one_product_alone_is_not_something_crypto(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # A fiat P2P currency exchange and a bank's Raast P2P page: P2P, rails, PKR, and nothing crypto.
    fiat_p2p = _html(
        "https://p2p-fx.example/login",
        "<h1>Exchange currency peer-to-peer</h1><p>Swap PKR, USD and EUR directly with verified traders "
        "on our P2P market. Pay with JazzCash or Easypaisa.</p><p>Sign in to your trading account</p>",
        lexicons,
        register,
    )
    bank = _html(
        "https://bank.example/raast",
        "<h1>Raast P2P</h1><p>Send money instantly to any IBAN or Raast ID with P2P transfers from "
        "your current account. Free for our customers in Karachi and Lahore.</p>",
        lexicons,
        register,
    )
    for result in (fiat_p2p, bank):
        assert result.targets_pakistan
        assert not result.crypto_service
        assert result.verdict == "clear"
        assert "nor the products of a crypto exchange named together" in _reasons(result)


DCA_EXPLAINER = (
    "تجارتی بوٹس\n"
    "DCA بوٹ کیا ہے اور یہ کیسے کام کرتا ہے۔\n"
    "مارکیٹ کی حالت سے قطع نظر، کرپٹو سرمایہ کاروں کے لیے مارکیٹ میں داخل ہونے کا صحیح وقت پہچاننا مشکل ہے۔\n"
    "اس گائیڈ میں Examplex DCA ٹریڈنگ بوٹ اور اس کے ساتھ شروع کرنے کا مرحلہ وار عمل دیکھیں۔\n"
    "حصہ 1 - ڈالر کی لاگت کا اوسط کیا ہے؟\n"
)


def test_an_exchanges_own_help_article_that_opens_as_an_explainer_is_flagged(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://www.kucoin.com/ur/support/2091", DCA_EXPLAINER, lexicons, register)
    assert result.verdict == "flag"
    reasons = _reasons(result)
    assert (
        'operating guide for one platform (exchange_operation "the exchange\'s own help centre" at url): '
        "its explainer cues are not counted: 'education: " in reasons
    )
    assert "against: non_service_context 'education:" not in reasons


def test_the_same_explainer_in_the_exchanges_learn_section_is_not(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://www.kucoin.com/ur/learn/trading/dca-bot", DCA_EXPLAINER, lexicons, register
    )
    assert result.targets_pakistan
    assert result.verdict == "clear"
    reasons = _reasons(result)
    assert "operating guide" not in reasons
    assert "against: non_service_context 'education:" in reasons


FUTURES_EXPLAINER = (
    "کرپٹو فیوچرز کی وضاحت\n"
    "مستقبل کے معاہدے کیا ہیں؟\n"
    "فیوچرز معاہدے روایتی مالیات کا حصہ ہیں جنہیں سرمایہ کار قیمتوں کے اتار چڑھاؤ سے بچنے کے لیے "
    "استعمال کرتے ہیں۔ کرپٹو کرنسی فیوچرز کیا ہیں؟ یہ کرپٹو کی دنیا کا تیزی سے بڑھتا شعبہ ہے۔\n"
)


def test_an_urdu_how_to_heading_naming_one_exchange_makes_an_operating_guide(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    heading = "کرپٹو کی تجارت کیسے کریں اور ApolloX سے رقم واپس لیں\nApolloX پر کرپٹو کی تجارت کیسے کریں\n"
    guide = analyze_text(
        "https://guides.example/ur/apollox-futures", heading + FUTURES_EXPLAINER, lexicons, register
    )
    assert guide.verdict == "flag"
    assert "exchange_operation 'how-to for one exchange (an operating guide)'" in _reasons(guide)
    # The explainer alone, naming no platform to operate, stays education.
    explainer = analyze_text("https://guides.example/ur/futures", FUTURES_EXPLAINER, lexicons, register)
    assert explainer.targets_pakistan
    assert explainer.verdict == "clear"


def test_an_english_how_to_naming_one_exchange_is_an_operating_guide(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://guides.example/bitget-deposit",
        "How to deposit USDT on Bitget with JazzCash\nWhat is USDT? Tether is a stablecoin. "
        "In this article we explain how it works for beginners.",
        lexicons,
        register,
    )
    assert "how-to for one exchange (an operating guide)" in _values(result, "exchange_operation")
    assert result.verdict == "flag"
    # Naming a country, not a platform, is no operating guide.
    general = analyze_text(
        "https://guides.example/usdt",
        "How to buy USDT in Pakistan\nWhat is USDT? Tether is a stablecoin.",
        lexicons,
        register,
    )
    assert "how-to for one exchange (an operating guide)" not in _values(general, "exchange_operation")


# An exchange's own blog post introducing its product (written for this test after the shape of an
# exchange's Urdu product post): it names the product and its risks, no steps, no how-to heading.
PRODUCT_POST = (
    "کیا ہوگا اگر ٹریڈنگ ایک سادہ سوال جتنی آسان ہو؟ Examplex پر پریڈکشن کانٹریکٹ یہی سہولت دیتا ہے۔\n"
    "لیوریج مینج کرنے کی بجائے آپ ایک فیصلہ کرتے ہیں: کیا مارکیٹ ایک مقررہ مدت میں اوپر جائے گی یا نیچے؟\n"
    "روایتی فیوچرز میں لیوریج، فنڈنگ ریٹس اور لیکویڈیشن کے خطرات شامل ہوتے ہیں۔\n"
)


def test_a_trading_guide_on_the_exchanges_own_site_is_an_operating_guide(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """The exchange's own guide to its product, filed in its blog: its slug says it is a trading guide
    (dev: XT.com's Urdu event-contract guide was cleared at 1.17 against 1.2)."""
    url = "https://www.kucoin.com/ur/blog/post/kucoin-prediction-contract-trading-guide-predict-and-earn"
    result = analyze_text(url, PRODUCT_POST, lexicons, register)
    assert "the exchange's own trading or user guide" in _values(result, "exchange_operation")
    assert result.verdict == "flag"
    assert 'exchange_operation "the exchange\'s own trading or user guide" (weight' in _reasons(result)


def test_a_trading_guide_slug_elsewhere_or_an_explainer_slug_is_not(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # The same slug on a site that is not the exchange's says nothing about who operates what.
    affiliate = analyze_text(
        "https://guides.example/ur/blog/prediction-contract-trading-guide", PRODUCT_POST, lexicons, register
    )
    assert "the exchange's own trading or user guide" not in _values(affiliate, "exchange_operation")
    # On the exchange's own site, a slug that names an explainer is no guide.
    explainer = analyze_text(
        "https://www.kucoin.com/ur/learn/trading/prediction-contracts-explained",
        PRODUCT_POST,
        lexicons,
        register,
    )
    assert "the exchange's own trading or user guide" not in _values(explainer, "exchange_operation")
    assert explainer.verdict == "clear"
