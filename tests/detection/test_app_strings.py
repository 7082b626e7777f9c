"""Urdu interface strings of apps (dev round 8): a self-custodial wallet or a tap-to-earn game says
buy, wallet and "please select" like an exchange, and Urdu counts as the Pakistani signal, so their
locale files were flagged (test3 and test4 erred on this kind). The user's own keys and the game are
context against a crypto service; an exchange's own strings, which offer spot trading, orders and
P2P with Pakistani rails, stay a service even where they warn about private keys. The examples are
written for this test."""

from __future__ import annotations

import json

from scanner.detection import Document, analyze


def _strings(url: str, strings: dict[str, str], lexicons, register):  # type: ignore[no-untyped-def]
    """A locale file as an app ships it: a JSON object of interface strings."""
    body = json.dumps(strings, ensure_ascii=False).encode()
    return analyze(Document(url, "application/json", body), lexicons, register)


def _context(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {s.value for s in result.signals if s.kind == "non_service_context"}


WALLET = {
    "app_name": "مثال والیٹ",
    "create_wallet": "نیا والیٹ بنائیں",
    "backup_title": "اپنا سیڈ فریز محفوظ کریں",
    "backup_body": "یہ 12 الفاظ آپ کے والیٹ کا بیک اپ ہیں۔ اپنی نجی کلید کسی کو نہ دیں۔",
    "hardware": "ہارڈ ویئر والٹ منسلک کریں",
    "send": "بھیجیں",
    "receive": "وصول کریں",
    "buy": "بٹ کوائن خریدیں",
    "buy_note": "خریداری کے لیے آپ کو تیسرے فریق کی ویب سائٹ پر بھیجا جائے گا۔",
    "select_fee": "براہ کرم نیٹ ورک فیس منتخب کریں",
    "verify": "توثیقی کوڈ درج کریں",
    "balance": "بیلنس",
}


def test_a_self_custodial_wallets_urdu_strings_are_cleared(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = _strings(
        "https://github.com/example/wallet/blob/main/locales/ur.json", WALLET, lexicons, register
    )
    assert result.targets_pakistan  # Urdu is the Pakistani signal, as the label rule says
    assert result.verdict == "clear"
    # The seed phrase, the private key and the hardware wallet are three cues, each listed against.
    assert {"wallet: seed phrase", "wallet: private key", "wallet: hardware wallet"} <= _context(result)
    against = [r for r in result.explanation["crypto_service"] if r.startswith("against: ")]
    assert len(against) >= 3


GAME = {
    "title": "کوائن ٹیپ",
    "play": "کھیلیں",
    "mini_game": "منی گیم کھیلیں اور اضافی سکے کمائیں",
    "daily": "روزانہ انعام",
    "per_hour": "فی گھنٹہ پوائنٹس",
    "tokenomics": "ٹوکینومکس",
    "invite": "دوستوں کو مدعو کریں",
    "connect": "Connect wallet",
    "connect_ur": "والیٹ کنیکٹ کریں",
    "buy_token": "ٹوکن خریدیں",
    "create_account": "اکاؤنٹ بنائیں",
    "select": "براہ کرم ایک کارڈ منتخب کریں",
}


def test_a_tap_to_earn_games_urdu_strings_are_cleared(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = _strings(
        "https://github.com/example/tap-game/blob/main/src/lang/ur.json", GAME, lexicons, register
    )
    assert result.verdict == "clear"
    # Four game cues against; a game whose strings show fewer can still pass as a service (dev round 8
    # keeps one such false flag, a tycoon game with a token airdrop).
    assert {"game: گیم", "game: mini game", "game: points per hour", "game: tokenomics"} <= _context(result)
    # "Connect wallet" is a web3 app's button, a generic call to action, not an offer.
    weights = {s.value: s.weight for s in result.signals if s.kind == "crypto_service"}
    assert weights.get("connect wallet", 0.2) <= 0.2


EXCHANGE = {
    "app_name": "مثال ایکسچینج",
    "spot": "Spot trading",
    "order_book": "Order book",
    "limit": "Limit order",
    "market": "Market order",
    "p2p": "P2P trading",
    "buy_usdt": "USDT خریدیں",
    "pair": "BTC/USDT",
    "deposit": "جاز کیش یا ایزی پیسہ سے روپے جمع کروائیں",
    "withdraw": "نکالنے کی درخواست",
    "kyc": "شناخت کی تصدیق مکمل کریں",
    "security": "اپنی نجی کلید یا پاس ورڈ کبھی کسی کو نہ بتائیں",
    "select": "براہ کرم ادائیگی کا طریقہ منتخب کریں",
}


def test_an_exchanges_urdu_strings_stay_a_service_even_with_a_private_key_warning(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = _strings(
        "https://github.com/example/exchange/blob/main/lang/ur.json", EXCHANGE, lexicons, register
    )
    assert "wallet: private key" in _context(result)  # one cue against ...
    assert result.crypto_service  # ... what the strings offer outweighs it
    assert result.verdict == "flag"
