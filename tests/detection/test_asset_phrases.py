"""A service phrase that names its asset ("buy bitcoin") says the page is about something crypto.

Found scoring the fifth held-out part (test5): a P2P platform's page listing its rupee payment
methods, every line "Buy bitcoin with Easypaisa, Sell bitcoin with Easypaisa", was cleared as
"nothing crypto". Each "bitcoin" sat inside the longer service phrase, which covered it, so no asset
stood alone. The text below is written for this test, not copied from that page.
"""

from __future__ import annotations

from .conftest import analyze_text

RUPEE_METHODS = (
    "Trade with any payment method\n"
    "Our payment methods for Pakistani rupee (PKR)\n"
    "Easypaisa: Buy bitcoin with Easypaisa, Sell bitcoin with Easypaisa\n"
    "JazzCash: Buy bitcoin with JazzCash, Sell bitcoin with JazzCash\n"
    "SadaPay: Buy bitcoin with SadaPay, Sell bitcoin with SadaPay\n"
)


def _analyze(text: str, lexicons, register):  # type: ignore[no-untyped-def]
    return analyze_text("https://p2p.example/pkr", text, lexicons, register)


def test_buy_and_sell_bitcoin_with_pakistani_rails_is_flagged(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = _analyze(RUPEE_METHODS, lexicons, register)
    assert not [s for s in result.signals if s.kind == "crypto_asset"]  # no asset stands alone
    assert result.crypto_service
    assert not any("nothing crypto" in reason for reason in result.explanation["crypto_service"])
    assert result.verdict == "flag"


def test_a_phrase_naming_no_asset_is_not_something_crypto(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    text = "Payment methods for Pakistani rupee (PKR)\nBuy with Easypaisa, sell with JazzCash, deposit via Raast\n"
    result = _analyze(text, lexicons, register)
    assert not result.crypto_service
    assert result.verdict == "clear"


def test_only_phrases_whose_every_spelling_names_an_asset_count(lexicons) -> None:  # type: ignore[no-untyped-def]
    assert ("crypto_service", "buy bitcoin") in lexicons.asset_phrases
    assert ("crypto_service", "buy usdt with pkr") in lexicons.asset_phrases
    assert not any(value in {"buy", "sell", "deposit"} for _, value in lexicons.asset_phrases)
