"""Evidence strength (issue 12): operating an exchange in Urdu, on-ramps through Pakistani rails,
URL cues, and the context (reports, brokers, gambling) that lowers crypto_service."""

from __future__ import annotations

from .conftest import analyze_text

URDU_NOTICE = (
    "پیارے Examplex Futures صارفین،\n"
    "Examplex Futures ABCUSDT دائمی معاہدے کو ڈی لسٹ کر دے گا۔ اوپن آرڈرز منسوخ کر دیئے جائیں گے اور "
    "پوزیشنز بند کر دی جائیں گی۔ مارجن اور لیوریج کی حدود تبدیل نہیں ہوں گی۔ فنڈنگ کی شرح 0 ہوگی۔"
)


def test_an_exchanges_urdu_notice_to_its_futures_users_is_flagged(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://www.kucoin.com/ur/announcement/delist-abcusdt", URDU_NOTICE, lexicons, register
    )
    assert result.verdict == "flag"
    # The deciding signals are named with their fitted weights: what the exchange does (delisting)
    # and the products it does it to (perpetual contracts).
    reasons = "\n".join(result.explanation["crypto_service"])
    assert "for: exchange_operation 'ڈی لسٹ' (weight" in reasons
    assert "for: crypto_product 'دائمی معاہدہ' (weight" in reasons
    # The URL says where the page sits and whose site it is, and both together: the exchange's own
    # help centre.
    by_locator = {(s.kind, s.value) for s in result.signals if s.locator == "url"}
    assert by_locator == {
        ("exchange_operation", "help-centre or announcement URL"),
        ("crypto_asset", "kucoin (host name)"),
        ("exchange_operation", "the exchange's own help centre"),
    }


def test_the_same_words_on_a_forex_brokers_page_are_no_crypto_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Axi میں اپنے ٹریڈنگ اکاؤنٹ کی تصدیق کیسے کریں۔ مارجن اور لیوریج، اوپن آرڈرز اور پوزیشنز۔ "
        "فاریکس اور CFD ٹریڈنگ کے لیے ڈپازٹ کریں۔"
    )
    result = analyze_text("https://help.broker.example/hc/ur/articles/1", text, lexicons, register)
    assert result.targets_pakistan
    assert not result.crypto_service
    assert result.verdict == "clear"
    # A help centre, but no exchange's own: the host names no exchange brand.
    assert not any("own help centre" in s.value for s in result.signals)


def test_buying_usdt_with_a_pakistani_wallet_is_an_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://usdt.example/",
        "Buy USDT with Easypaisa or JazzCash. Instant settlement.",
        lexicons,
        register,
    )
    values = {s.value for s in result.signals if s.kind == "crypto_service"}
    assert "crypto bought or funded with a Pakistani rail" in values
    assert result.verdict == "flag"


def test_a_report_on_pakistans_crypto_market_is_not_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "How Pakistan's crypto market reached $300 billion despite the 2018 ban. Traders use P2P "
        "platforms and mobile wallets like Easypaisa and JazzCash to trade Bitcoin and USDT on a "
        "cryptocurrency exchange, according to a Chainalysis survey of crypto adoption."
    )
    result = analyze_text("https://magazine.example/pakistan-crypto-volume", text, lexicons, register)
    assert result.targets_pakistan
    assert not result.crypto_service
    against = [r for r in result.explanation["crypto_service"] if r.startswith("against:")]
    assert any("report:" in r for r in against)


def test_a_learn_section_argues_against_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://www.kucoin.com/ur/learn/what-is-p2p", "کرپٹو P2P ٹریڈنگ", lexicons, register)
    values = {s.value for s in result.signals if s.kind == "non_service_context"}
    assert "url: learn, academy, blog or news section" in values


def test_a_pkr_pair_written_fiat_first_is_a_pkr_market(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://spot.example/trade", "Spot trading PKR/USDT last price 289.50", lexicons, register
    )
    assert ("pkr_market", "USDT/PKR") in {(s.kind, s.value) for s in result.signals}
    assert result.verdict == "flag"


def test_a_roman_urdu_desk_post_is_an_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Fresh USDT available hai, bulk USDT bhi. Rate kya hai? Inbox karein. Payment JazzCash ya Easypaisa."
    )
    result = analyze_text("https://t.me/s/desk_example", text, lexicons, register)
    assert result.crypto_service and result.targets_pakistan


def test_a_brokers_crypto_cfd_page_in_urdu_is_no_crypto_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Exness پر کرپٹو کرنسی جوڑوں کی تجارت کریں۔ سپریڈز فلوٹنگ ہیں، مارجن اور لیوریج کے تقاضے مقرر ہیں، "
        "کرپٹو پر کوئی سویپ چارج نہیں۔ BTCUSD اور ETHUSD پر پوزیشنز کھولیں۔"
    )
    result = analyze_text("https://broker.example/ur/crypto/", text, lexicons, register)
    assert result.targets_pakistan
    assert not result.crypto_service
    against = {s.value for s in result.signals if s.kind == "non_service_context"}
    assert "forex_broker: broker brand" in against


EXCHANGE_IN_PAKISTAN_LANDING = (
    "Examplebit - The first bitcoin exchange in Pakistan\n"
    "FAQ | Trading | Market | Sign in | Sign up\n"
    "How do I deposit local currency into my account? Click on 'Deposit local currency' and specify "
    "the amount of FIAT you want to deposit in order to buy bitcoins.\n"
    "Buy or Sell | Order book | Deposit requests | Withdrawal requests"
)


def test_an_exchange_calling_itself_a_bitcoin_exchange_in_pakistan_targets_pakistan(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # Its only Pakistani words are that claim; one mention of the country alone is weak (a drop-down).
    result = analyze_text("https://examplebit.example/", EXCHANGE_IN_PAKISTAN_LANDING, lexicons, register)
    assert result.verdict == "flag"
    reasons = "\n".join(result.explanation["targets_pakistan"])
    assert "for: pk_country 'crypto exchange operating in Pakistan' (weight" in reasons


def test_a_guide_on_how_to_buy_bitcoin_in_pakistan_is_not_that_claim(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Bitcoin is a digital currency. To buy bitcoin in Pakistan, you must involve a professional "
        "trader of bitcoin who will sell bitcoin to you."
    )
    result = analyze_text("https://blog.example/bitcoin", text, lexicons, register)
    assert not result.targets_pakistan
    assert not any(s.value == "crypto exchange operating in Pakistan" for s in result.signals)


# A consultancy's explainer of how a firm gets a PVARA licence (test3's false flag, seen data): it names
# a crypto exchange and "start trading" to say what the licence allows, for would-be operators.
LICENSING_EXPLAINER = (
    "Pakistani Crypto Exchange Licensing Requirements and Process in 2025\n"
    "PVARA Crypto License Eligibility Checker: does your company meet the licensing requirements?\n"
    "You can't just open a crypto exchange in Pakistan and start trading. PVARA accepts a license "
    "application only from companies licensed by top-tier regulators. The licensing process takes at "
    "least three months."
)


def test_a_licensing_explainer_for_would_be_operators_is_not_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://consultancy.example/pakistan-licensing", LICENSING_EXPLAINER, lexicons, register
    )
    assert result.targets_pakistan
    assert "regulator: licensing requirements" in {
        s.value for s in result.signals if s.kind == "non_service_context"
    }
    assert result.verdict == "clear"


# test7's false flag (scored at 2a846a0, seen data after): an Urdu article on paying for online slots
# lists a card, mobile wallets, a bank's app ("log in to your bank's website") and bitcoin.
SLOT_PAYMENT_ARTICLE = (
    "آن لائن سلاٹ ادائیگی کے طریقے اور ان کی تفصیل\n"
    "موبائل والٹ جیسے ایزی پیسا یا جاز کیش کے ذریعے بھی ادائیگی کی جا سکتی ہے۔\n"
    "بینک ٹرانسفر: بینک کی ویب سائٹ یا ایپ میں لاگ ان کریں اور پیسے بھیجیں۔\n"
    "چوتھا طریقہ: کرپٹو کرنسی۔ بٹ کوائن کے ذریعے بھی ادائیگی ممکن ہے۔ ادائیگی کا طریقہ منتخب کریں۔"
)


def test_logging_in_in_urdu_is_a_generic_call_to_action_as_in_english(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    urdu = analyze_text("https://blog.example/slot-payments", SLOT_PAYMENT_ARTICLE, lexicons, register)
    english = analyze_text("https://shop.example/", "Log in to your account.", lexicons, register)
    weights = {s.value: s.weight for s in urdu.signals + english.signals if s.kind == "crypto_service"}
    assert weights["لاگ ان کریں"] == weights["log in"]
    assert urdu.targets_pakistan
    assert urdu.verdict == "clear"


# test8's missed flag (scored at 907b795, seen data after): a signals platform's README whose P2P desk
# trades USDT for rupees, with no other Pakistani word.
P2P_DESK_README = (
    "Signals membership platform. Features: live signals, an order book view, and a P2P exchange: "
    "buy/sell USDT for PKR against the analyst's own rate, by bank transfer with receipt upload."
)


def test_crypto_traded_for_rupees_targets_pakistan(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text("https://github.com/example/signals", P2P_DESK_README, lexicons, register)
    assert "crypto traded for PKR" in {s.value for s in result.signals if s.kind == "pkr_amount"}
    assert result.targets_pakistan
    assert result.verdict == "flag"


def test_a_rate_converters_usdt_to_pkr_names_no_trade(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_text(
        "https://rates.example/", "Convert USDT to PKR: 1 USDT = 281.5 PKR", lexicons, register
    )
    assert "crypto traded for PKR" not in {s.value for s in result.signals}
