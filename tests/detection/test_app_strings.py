"""Urdu interface strings of apps (dev round 8): a self-custodial wallet or a tap-to-earn game says
buy, wallet and "please select" like an exchange, and Urdu counts as the Pakistani signal, so their
locale files were flagged (test3 and test4 erred on this kind). The user's own keys and the game are
context against a crypto service; an exchange's own strings, which offer spot trading, orders and
P2P with Pakistani rails, stay a service even where they warn about private keys. The examples are
written for this test."""

from __future__ import annotations

import json

from scanner.detection import Document, analyze

from .conftest import analyze_json, context_cues

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
    result = analyze_json(
        "https://github.com/example/wallet/blob/main/locales/ur.json", WALLET, lexicons, register
    )
    assert result.targets_pakistan  # Urdu is the Pakistani signal, as the label rule says
    assert result.verdict == "clear"
    # The seed phrase, the private key and the hardware wallet are three cues, each listed against.
    assert {"wallet: seed phrase", "wallet: private key", "wallet: hardware wallet"} <= context_cues(result)
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
    result = analyze_json(
        "https://github.com/example/tap-game/blob/main/src/lang/ur.json", GAME, lexicons, register
    )
    assert result.verdict == "clear"
    # Four game cues against; a game whose strings show fewer can still pass as a service (dev round 8
    # keeps one such false flag, a tycoon game with a token airdrop).
    assert {"game: گیم", "game: mini game", "game: points per hour", "game: tokenomics"} <= context_cues(result)
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
    result = analyze_json(
        "https://github.com/example/exchange/blob/main/lang/ur.json", EXCHANGE, lexicons, register
    )
    assert "wallet: private key" in context_cues(result)  # one cue against ...
    assert result.crypto_service  # ... what the strings offer outweighs it
    assert result.verdict == "flag"


# ---- the shape of the JSON: a table of interface strings, or API data (scanner.detection.shape)

BROKER_STRINGS = {
    "dep_tit": "فاریکس اکاؤنٹ میں رقم جمع کروائیں",
    "dep_dsc": "اپنے ٹریڈنگ اکاؤنٹ میں رقم جمع کروائیں",
    "wit_dsc": "اپنے اکاؤنٹ سے رقم نکلوائیں",
    "PaymentMethods": "ادائیگی کے طریقے",
    "minAmount": "کم از کم رقم",
    "bank": "بینک ٹرانسفر",
    "cards": "ویزا / ماسٹر کارڈ",
    "skrill": "Skrill والیٹ",
    "bitcoin": "Bitcoin سے ڈپازٹ",
    "history": "لین دین کی تاریخ",
    "login": "لاگ ان کریں",
    "select": "براہ کرم ادائیگی کا طریقہ منتخب کریں",
}

P2P_RESPONSE = {
    "code": "000000",
    "data": [
        {
            "adv": {
                "advNo": "11500000000001",
                "asset": "USDT",
                "fiatUnit": "USD",
                "price": "1.02",
                "minSingleTransAmount": "10.00",
                "maxSingleTransAmount": "500.00",
                "tradeMethods": [{"identifier": "BANK", "tradeMethodName": "Bank Transfer"}],
            },
            "advertiser": {"nickName": "desk", "monthOrderCount": 412, "monthFinishRate": 0.98},
        },
        {
            "adv": {
                "advNo": "11500000000002",
                "asset": "USDT",
                "fiatUnit": "USD",
                "price": "1.03",
                "minSingleTransAmount": "20.00",
                "maxSingleTransAmount": "900.00",
                "tradeMethods": [{"identifier": "BANK", "tradeMethodName": "Bank Transfer"}],
            },
            "advertiser": {"nickName": "otc", "monthOrderCount": 98, "monthFinishRate": 0.95},
        },
    ],
    "success": True,
}


def test_a_locale_files_keys_are_labels_not_p2p_advert_fields(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A broker's Urdu deposit strings keyed "PaymentMethods" and "minAmount" (dev round 8: ForexMart)
    are a table of interface strings; a P2P response with adverts of prices and limits is data."""
    strings = analyze_json(
        "https://github.com/example/broker/blob/main/lang/ur.json", BROKER_STRINGS, lexicons, register
    )
    kinds = {s.kind for s in strings.signals}
    assert "interface_strings" in kinds
    assert not any(s.value.startswith("P2P ad field") for s in strings.signals)
    assert strings.verdict == "clear"

    adverts = analyze_json("https://p2p.example/bapi/c2c/adv/search", P2P_RESPONSE, lexicons, register)
    assert "interface_strings" not in {s.kind for s in adverts.signals}
    fields = {s.value for s in adverts.signals if s.value.startswith("P2P ad field")}
    assert {"P2P ad field advNo", "P2P ad field minSingleTransAmount"} <= fields
    assert adverts.crypto_service  # adverts are the service (not Pakistani here: USD, a bank transfer)


def test_an_apps_buttons_are_not_counted_in_its_strings_but_are_on_a_page(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """The same Urdu words, buy/sell/deposit/withdraw/log in next to Bitcoin: an app's strings name its
    buttons (every app has them), a web page saying them invites the reader. The labels stay listed
    as found; the explanation says they were not counted and why."""
    words = {
        "title": "بٹ کوائن",
        "buy": "خریدیں",
        "sell": "فروخت کریں",
        "deposit": "رقم جمع کروائیں",
        "withdraw": "رقم نکلوائیں",
        "login": "لاگ ان کریں",
        "signup": "اکاؤنٹ بنائیں",
        "select": "براہ کرم منتخب کریں",
        "code": "توثیقی کوڈ درج کریں",
    }
    table = analyze_json("https://github.com/example/app/blob/main/locales/ur.json", words, lexicons, register)
    assert table.verdict == "clear"
    assert not table.crypto_service
    note = next(r for r in table.explanation["crypto_service"] if r.startswith("interface strings: "))
    assert "not counted" in note and "'خریدیں'" in note and "'لاگ ان کریں'" in note
    assert "خریدیں" in {s.value for s in table.signals}  # found and shown, not counted

    page = analyze(
        Document("https://app.example/ur", "text/plain", "\n".join(words.values()).encode()),
        lexicons,
        register,
    )
    assert "interface_strings" not in {s.kind for s in page.signals}
    assert page.strengths["crypto"] > table.strengths["crypto"]


def test_the_table_shape_is_read_from_values_not_keys() -> None:
    """Strings tables: phrases and almost no numbers. P2P responses and market lists: numbers and
    single tokens. Too few strings decide nothing."""
    from scanner.detection.shape import strings_table

    def shape(data: object):  # type: ignore[no-untyped-def]
        return strings_table(
            Document("https://x.example/a.json", "application/json", json.dumps(data).encode()).extract()
        )

    assert shape(WALLET) is not None
    assert shape(P2P_RESPONSE) is None
    markets = {
        f"{b}/PKR": {"symbol": f"{b}/PKR", "base": b, "quote": "PKR", "active": True, "type": "spot"}
        for b in ("BTC", "ETH", "USDT", "SOL")
    }
    assert shape(markets) is None
    assert shape({"error": "not found", "hint": "try again later"}) is None


# ---- a non-custodial DEX and a wallet with an in-app swap (the label rule: a DEX is a crypto
# service, a wallet is not, even where it swaps through providers)

DEX = {
    "app": "مثال سویپ",
    "connect": "والیٹ کنیکٹ کریں",
    "swap": "سویپ",
    "from": "آپ دیتے ہیں",
    "to": "آپ کو ملتا ہے",
    "select_token": "ٹوکن منتخب کریں",
    "slippage": "سلپیج ٹالرینس",
    "impact": "قیمت کا اثر",
    "min": "کم از کم موصول",
    "route": "روٹ",
    "pool": "لیکویڈیٹی شامل کریں",
    "remove": "لیکویڈیٹی ہٹائیں",
    "fee": "لیکویڈیٹی فراہم کنندہ کی فیس",
    "confirm": "سویپ کی تصدیق کریں",
}

WALLET_WITH_SWAP = {
    **WALLET,
    "swap": "سویپ",
    "swap_body": "ایک ٹوکن کو دوسرے میں بدلیں",
    "slippage": "سلپیج ٹالرینس",
    "swap_note": "سویپ ایک بیرونی سروس کے ذریعے ہوتا ہے",
}


def test_a_dexs_urdu_strings_are_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """Its buttons (connect wallet, select a token) are labels; slippage, price impact, the minimum
    received and adding liquidity are the swap and pool it operates."""
    result = analyze_json("https://github.com/example/dex/blob/main/src/locales/ur.json", DEX, lexicons, register)
    ops = {s.value for s in result.signals if s.kind == "exchange_operation"}
    assert {"slippage", "price impact", "minimum received", "add liquidity"} <= ops
    # "سویپ" is a token swap here, not a forex broker's overnight swap.
    assert not any(v.startswith("forex_broker") for v in context_cues(result))
    assert result.crypto_service
    assert result.verdict == "flag"


def test_a_wallet_with_an_in_app_swap_stays_a_wallet(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """The same swap screen inside a self-custodial wallet: the user's own keys argue against a
    service, as the label rule reads wallets (bench/realworld/README.md)."""
    result = analyze_json(
        "https://github.com/example/wallet/blob/main/locales/ur.json", WALLET_WITH_SWAP, lexicons, register
    )
    assert "slippage" in {s.value for s in result.signals if s.kind == "exchange_operation"}
    assert {"wallet: seed phrase", "wallet: private key"} <= context_cues(result)
    assert result.verdict == "clear"


# ---- other locale formats: Android strings.xml, Qt Linguist .ts, gettext .po (scanner.detection.shape)

BUTTONS = [
    ("title", "بٹ کوائن"),
    ("buy", "خریدیں"),
    ("sell", "فروخت کریں"),
    ("deposit", "رقم جمع کروائیں"),
    ("withdraw", "رقم نکلوائیں"),
    ("login", "لاگ ان کریں"),
    ("signup", "اکاؤنٹ بنائیں"),
    ("select", "براہ کرم منتخب کریں"),
    ("code", "توثیقی کوڈ درج کریں"),
]


def _android(strings: list[tuple[str, str]]) -> str:
    rows = "".join(f'    <string name="{key}">{value}</string>\n' for key, value in strings)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<!-- app strings -->\n<resources>\n{rows}</resources>\n'


def _qt(strings: list[tuple[str, str]]) -> str:
    messages = "".join(
        f'    <message>\n        <location filename="../main.ui" line="{i}"/>\n'
        f"        <source>{key.title()}</source>\n        <translation>{value}</translation>\n    </message>\n"
        for i, (key, value) in enumerate(strings)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1" language="ur_PK">\n'
        f"<context>\n    <name>MainWindow</name>\n{messages}</context>\n</TS>\n"
    )


def _po(strings: list[tuple[str, str]]) -> str:
    entries = "".join(
        f'#: src/app.js:{i}\nmsgid "{key.title()}"\nmsgstr "{value}"\n\n'
        for i, (key, value) in enumerate(strings)
    )
    return (
        f'msgid ""\nmsgstr ""\n"Language: ur\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n{entries}'
    )


def _file(url: str, content_type: str, text: str, lexicons, register):  # type: ignore[no-untyped-def]
    return analyze(Document(url, content_type, text.encode()), lexicons, register)


def test_an_apps_buttons_in_android_qt_and_gettext_files_are_not_counted(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """The same buttons as a JSON locale file, in the other formats apps ship, served as XML or as a
    repository's plain text: read as a table of interface strings, named in the explanation."""
    cases = [
        ("res/values-ur/strings.xml", "application/xml", _android(BUTTONS), "Android strings.xml"),
        ("res/values-ur/strings.xml", "text/plain", _android(BUTTONS), "Android strings.xml"),
        ("translations/app_ur.ts", "application/xml", _qt(BUTTONS), "Qt .ts"),
        ("translations/app_ur.ts", "text/plain", _qt(BUTTONS), "Qt .ts"),
        ("locale/ur/LC_MESSAGES/app.po", "text/plain", _po(BUTTONS), "gettext .po"),
    ]
    for path, content_type, text, fmt in cases:
        result = _file(
            f"https://github.com/example/app/blob/main/{path}", content_type, text, lexicons, register
        )
        table = [s for s in result.signals if s.kind == "interface_strings"]
        assert table and f"a table of interface strings ({fmt};" in table[0].snippet, (path, content_type)
        assert result.targets_pakistan  # Urdu
        assert result.verdict == "clear", (path, content_type)
        note = next(r for r in result.explanation["crypto_service"] if r.startswith("interface strings: "))
        assert "not counted" in note and "'خریدیں'" in note


def test_an_exchanges_gettext_strings_stay_a_service(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    exchange = [(key, value) for key, value in EXCHANGE.items()]
    result = _file(
        "https://github.com/example/exchange/blob/main/locale/ur/LC_MESSAGES/app.po",
        "text/plain",
        _po(exchange),
        lexicons,
        register,
    )
    assert "interface_strings" in {s.kind for s in result.signals}
    assert result.verdict == "flag"  # spot trading, the order book, P2P, JazzCash and Easypaisa deposits


def test_a_page_or_a_data_file_in_xml_is_not_a_strings_table(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # A feed of prices in XML: numbers, not phrases; and a web page whose words invite the reader.
    rates = "".join(f'<string name="p{i}">{290 + i}.{i}</string>' for i in range(12))
    data = _file(
        "https://rates.example/feed.xml",
        "application/xml",
        f"<resources>{rates}</resources>",
        lexicons,
        register,
    )
    assert "interface_strings" not in {s.kind for s in data.signals}
    page = _file(
        "https://coins.example/ur",
        "text/html",
        "<html><body><h1>بٹ کوائن خریدیں</h1><p>جاز کیش سے رقم جمع کروائیں اور USDT خریدیں</p></body></html>",
        lexicons,
        register,
    )
    assert "interface_strings" not in {s.kind for s in page.signals}
    assert page.verdict == "flag"


# ---- a locale table inside a page's JSON state (next-i18next's store in __NEXT_DATA__)


def _next_page(visible: str) -> str:
    store = {"ur": {"common": dict(BUTTONS)}}
    data = {"props": {"pageProps": {"_nextI18Next": {"initialI18nStore": store, "initialLocale": "ur"}}}}
    return (
        '<!DOCTYPE html><html lang="ur"><head><title>Example</title></head><body>'
        f'<div id="__next">{visible}</div><script id="__NEXT_DATA__" type="application/json">'
        f"{json.dumps(data, ensure_ascii=False)}</script></body></html>"
    )


def test_a_pages_embedded_locale_store_does_not_make_its_buttons_an_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A wallet's Next.js page ships every Urdu string of the app in its state; the page itself says
    "Bitcoin wallet, keep your coins safe". The store's buttons (buy, sell, deposit, log in) were read
    as the page's offer; they are the app's labels, listed and not counted."""
    page = _next_page("<h1>بٹ کوائن والیٹ</h1><p>اپنے سکے محفوظ رکھیں</p>")
    result = analyze(Document("https://wallet.example/ur", "text/html", page.encode()), lexicons, register)
    assert result.targets_pakistan
    assert result.verdict == "clear"
    note = next(
        r for r in result.explanation["crypto_service"] if r.startswith("locale strings in the page's state")
    )
    assert '//script[@id="__NEXT_DATA__"]#/props/pageProps/_nextI18Next' in note
    assert "not counted" in note and "'خریدیں'" in note


def test_buttons_the_page_itself_shows_still_count(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    page = _next_page("<h1>بٹ کوائن خریدیں</h1><p>جاز کیش سے رقم جمع کروائیں اور USDT خریدیں</p>")
    result = analyze(Document("https://coins.example/ur", "text/html", page.encode()), lexicons, register)
    assert result.verdict == "flag"
    reasons = "\n".join(result.explanation["crypto_service"])
    assert "for: crypto_service 'خریدیں' (weight" in reasons  # located at the page, not the store
    assert "at /html/body/div/h1" in reasons


# A DEX's strings in a language without Urdu crypto words, naming only its own tokens (dev round devfix:
# Uniswap's Arabic gettext file names UNI and WETH and was judged "nothing crypto").
DEX_EN = {
    "swap": "Swap",
    "pool": "Pool",
    "add": "Add Liquidity",
    "remove": "Remove Liquidity",
    "tip": "When you add liquidity, you will receive pool tokens representing your position.",
    "slippage": "Slippage tolerance",
    "impact": "Price Impact",
    "min": "Minimum received",
    "confirm": "Confirm Swap",
    "claim": "Claim your UNI",
    "wrap": "Wrap WETH",
    "connect": "Connect a wallet",
    "approve": "Approve",
}


def test_a_dexs_swap_and_pool_are_something_crypto_without_a_known_coin(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_json(
        "https://github.com/example/dex/blob/main/src/locales/en.json", DEX_EN, lexicons, register
    )
    reasons = "\n".join(result.explanation["crypto_service"])
    assert (
        "a crypto exchange's products named together: liquidity pool ('add liquidity'), token swap ("
        in reasons
    )
    assert result.crypto_service
    assert not result.targets_pakistan  # an English DEX for no country in particular
    assert result.verdict == "clear"


def test_a_swap_alone_is_one_product_not_something_crypto(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    swap_only = {k: v for k, v in DEX_EN.items() if k not in {"pool", "add", "remove", "tip"}}
    result = analyze_json(
        "https://github.com/example/app/blob/main/src/locales/en.json", swap_only, lexicons, register
    )
    assert "products named together" not in "\n".join(result.explanation["crypto_service"])
    assert not result.crypto_service


# A DEX's Urdu swap screen with its alerts and tooltips (test6, scored at 343a82e: Rango's Urdu .po
# and THORChain's Urdu strings were missed; "Caution, your slippage is high", "Gas & Fee Explanation"
# and a survey link were read as a regulator's caution, an explainer and a report).
DEX_SWAP_ALERTS = {
    "swap": "تبادلہ کریں",
    "select_token": "ٹوکن منتخب کریں",
    "slippage": "سلپیج ٹالرینس",
    "impact": "قیمت کا اثر",
    "caution": "Caution, your slippage is high. Your trade may be front run.",
    "fee_help": "گیس اور فیس کی وضاحت",
    "survey": "Take our survey",
    "quote": "قیمت",
}


def test_a_dexs_alerts_and_tooltips_are_not_context_against_its_swap(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_json(
        "https://github.com/example/dex/blob/main/translations/ur.json", DEX_SWAP_ALERTS, lexicons, register
    )
    reasons = "\n".join(result.explanation["crypto_service"])
    assert "nor its tooltips and alerts as context: " in reasons
    assert "'regulator: caution'" in reasons
    assert not any(r.startswith("against: ") for r in result.explanation["crypto_service"])
    assert result.verdict == "flag"


def test_the_same_alerts_count_in_strings_without_a_trade_form(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A token bridge's strings name no product of an exchange: what its strings explain and warn
    about still counts against a service."""
    bridge = {
        "bridge": "ٹوکن کو دوسری چین پر منتقل کریں",
        "start": "تجارت شروع کریں",
        "caution": "Caution: bridging is irreversible.",
        "fee_help": "گیس اور فیس کی وضاحت",
        "crypto": "کرپٹو",
    }
    result = analyze_json(
        "https://github.com/example/bridge/blob/main/locales/ur.json", bridge, lexicons, register
    )
    reasons = "\n".join(result.explanation["crypto_service"])
    assert "tooltips and alerts" not in reasons
    assert any(
        r.startswith("against: non_service_context 'regulator: caution'")
        for r in result.explanation["crypto_service"]
    )
    assert result.verdict == "clear"


def test_a_dexs_limit_orders_next_to_its_swap_are_two_products(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """THORChain's front end: a swap and limit orders, no pool and no coin the lexicon knows."""
    swap_and_orders = {
        "swap": "Swap",
        "slippage": "Slippage tolerance",
        "impact": "Price Impact",
        "limit": "Enter a limit order",
        "connect": "Connect a wallet",
    }
    result = analyze_json(
        "https://github.com/example/dex/blob/main/src/locales/en.json", swap_and_orders, lexicons, register
    )
    reasons = "\n".join(result.explanation["crypto_service"])
    assert "spot trading ('limit order')" in reasons
    assert "token swap (" in reasons
    assert result.crypto_service


# A multi-chain wallet's Urdu strings with a directory of third-party apps (test6's OISY, seen data):
# the DEXs it describes there invite the reader to trade on them, not on the wallet.
WALLET_WITH_DAPP_DIRECTORY = {
    "title": "اپنے ڈیجیٹل اثاثے محفوظ رکھیں",
    "assets": "بٹ کوائن، ایتھریم اور ٹوکن",
    "dapp_explorer": "dApp explorer",
    "discover": "ایپس دریافت کریں",
    "submit": "اپنی ایپ جمع کروائیں",
    "dex_one_liner": "تمام چینز پر ٹوکن آسانی سے ٹریڈ کریں، تجارت شروع کریں",
    "dex_two": "سب سے بڑا آن چین مارکیٹ پلیس، کرپٹو خریدیں اور بیچیں",
}


def test_a_wallets_directory_of_dexs_is_context_not_its_own_offer(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze_json(
        "https://github.com/example/wallet/blob/main/src/i18n/ur-PK.json",
        WALLET_WITH_DAPP_DIRECTORY,
        lexicons,
        register,
    )
    assert {"directory: explore dapps", "directory: submit your dapp"} <= context_cues(result)
    assert result.targets_pakistan
    assert result.verdict == "clear"
