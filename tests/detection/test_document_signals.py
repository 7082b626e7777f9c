"""Text extraction (charsets, locators, embedded JSON) and individual signal rules."""

from __future__ import annotations

import pytest

from scanner.detection import Document, analyze, decode_body
from scanner.detection.signals import iban_pk_valid


def _kinds(result) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for s in result.signals:
        out.setdefault(s.kind, set()).add(s.value)
    return out


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Jazz پیسہ".encode(), "text/html; charset=utf-8", "Jazz پیسہ"),
        ("café".encode("cp1252"), "text/plain; charset=windows-1252", "café"),
        (b'<meta charset="iso-8859-1"><p>caf\xe9</p>', "text/html", "café"),
        (b"\xef\xbb\xbfbom", "text/plain", "bom"),
        ("utf16".encode("utf-16"), "text/plain", "utf16"),
        (b"caf\xe9 \xff\xfe bad", "text/plain; charset=utf-8", "caf"),
        (b"ok", "text/plain; charset=no-such-charset", "ok"),
    ],
)
def test_decode_never_raises(body: bytes, content_type: str, expected: str) -> None:
    text, _ = decode_body(body, content_type)
    assert expected in text


def test_locators_for_html_parts(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    html = b"""<html lang="ur-PK"><head><meta property="og:title" content="Buy USDT with JazzCash"></head>
    <body><div><p>Deposit via Easypaisa</p><img alt="Raast transfer" src="x.png"></div>
    <a href="https://wa.me/923001234567">chat</a>
    <script type="application/ld+json">{"offers": {"fiat": "PKR", "methods": ["SadaPay"]}}</script></body></html>"""
    result = analyze(Document("https://x.test/", "text/html", html), lexicons, register)
    by_value = {s.value: s.locator for s in result.signals}
    assert by_value["JazzCash"] == "/html/head/meta/@content"
    assert by_value["Easypaisa"] == "/html/body/div/p"
    assert by_value["Raast"] == "/html/body/div/img/@alt"
    assert by_value["wa.me/923001234567"] == "/html/body/a/@href"
    assert by_value["SadaPay"].endswith("#/offers/methods/0")
    assert by_value["PKR fiat field"].endswith("#/offers/fiat")
    assert by_value["lang=ur-PK"] == "/html/@lang"


def test_next_data_and_json_pointers(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    from .conftest import corpus_document

    result = analyze(corpus_document("p07_nextdata.html"), lexicons, register)
    locs = {s.value: s.locator for s in result.signals}
    assert locs["EasypaisaPK" if "EasypaisaPK" in locs else "Easypaisa"].startswith('//script[@id="__NEXT_DATA__"]#/props/pageProps/')
    api = analyze(corpus_document("p09_binance_p2p_pkr.json"), lexicons, register)
    fiat = [s for s in api.signals if s.value == "PKR fiat field"][0]
    assert fiat.locator == "#/data/0/adv/fiatUnit"
    easypaisa = [s for s in api.signals if s.value == "Easypaisa"][0]
    assert easypaisa.locator == "#/data/0/adv/tradeMethods/0/identifier"


def test_plain_text_locator_is_offset(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze(Document("https://x.test/", "text/plain", b"hello\nBuy USDT with JazzCash"), lexicons, register)
    assert {s.locator for s in result.signals if s.value == "JazzCash"} == {"char:20"}


def test_content_digest_same_vs_changed(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    a = analyze(Document("https://x.test/", "text/html", b"<p>Buy USDT</p>  <p>JazzCash</p>"), lexicons, register)
    b = analyze(Document("https://x.test/", "text/html", b"<p>Buy   USDT</p>\n<p>JazzCash</p>"), lexicons, register)
    c = analyze(Document("https://x.test/", "text/html", b"<p>Buy BTC</p><p>JazzCash</p>"), lexicons, register)
    assert a.content_digest == b.content_digest != c.content_digest
    assert len(a.content_digest) == 64


def test_repeated_parts_are_read_once_and_still_count_as_content(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A market table repeats its "Trade" link and tickers on every row: the detector reads each
    repeated part once (same signals, first-row locators), but a row added to the table is still a
    change of the page's content (its digest covers every part)."""
    def page(rows: int) -> bytes:
        row = "<tr><td>BTC/PKR</td><td><a href='/trade/BTC_PKR'>Trade</a></td><td>JazzCash</td></tr>"
        return f"<html><body><table>{row * rows}</table><p>Buy USDT</p></body></html>".encode()

    three = Document("https://x.test/", "text/html", page(3))
    assert three.extract().parts.count("BTC/PKR") == 1
    a, b = (analyze(Document("https://x.test/", "text/html", page(n)), lexicons, register) for n in (3, 4))
    assert [(s.kind, s.value, s.locator) for s in a.signals] == [(s.kind, s.value, s.locator) for s in b.signals]
    assert {s.locator for s in a.signals if s.value == "JazzCash"} == {"/html/body/table/tr[1]/td[3]"}
    assert a.content_digest != b.content_digest


def test_json_content_sniffed_and_invalid_json_is_text(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    sniffed = Document("https://x.test/", "", b'{"fiat": "PKR", "asset": "USDT"}')
    assert sniffed.kind == "json"
    assert "pkr_market" in _kinds(analyze(sniffed, lexicons, register))
    broken = Document("https://x.test/", "application/json", b'{"fiat": "PKR", "methods": ["JazzCash"')
    assert "JazzCash" in _kinds(analyze(broken, lexicons, register))["payment_rail"]


def test_iban_mod97() -> None:
    assert iban_pk_valid("PK36 SCBL 0000 0011 2345 6702")
    assert iban_pk_valid("PK13MEZN0001020304050607")
    assert not iban_pk_valid("PK37 SCBL 0000 0011 2345 6702")
    assert not iban_pk_valid("PK36SCBL000000112345670")


def test_invalid_iban_is_not_a_signal(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    good = analyze(Document("https://x.test/", "text/plain", b"IBAN PK36 SCBL 0000 0011 2345 6702"), lexicons, register)
    bad = analyze(Document("https://x.test/", "text/plain", b"IBAN PK37 SCBL 0000 0011 2345 6702"), lexicons, register)
    assert _kinds(good)["pk_iban"] == {"PK36SCBL… (Standard Chartered Pakistan)"}
    assert "pk_iban" not in _kinds(bad)


@pytest.mark.parametrize(
    ("text", "urdu"),
    [
        ("بٹ کوائن خریدیں اور منافع کمائیں۔ یہ ہمارا پلیٹ فارم ہے", True),  # Urdu
        ("اشترِ البيتكوين بالريال السعودي في المملكة العربية السعودية", False),  # Arabic
        ("خرید و فروش بیت کوین و تتر با تومان در صرافی ما", False),  # Persian
        ("बिटकॉइन खरीदें और मुनाफा कमाएं", False),  # Hindi
    ],
)
def test_urdu_vs_arabic_persian_hindi(text: str, urdu: bool, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    result = analyze(Document("https://x.test/", "text/plain", text.encode()), lexicons, register)
    assert ("urdu_script" in _kinds(result)) is urdu


def test_rupee_sign_alone_is_not_pakistan(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    page = "Buy USDT now. Rate ₨ 290, min Rs 5,000, Rs. 10,000 bonus. Start trading. Paise kamao!".encode()
    alone = analyze(Document("https://x.test/", "text/plain", page), lexicons, register)
    assert alone.crypto_service and not alone.targets_pakistan and alone.verdict == "clear"
    assert "not counted without firm Pakistani signals" in " ".join(alone.explanation["targets_pakistan"])
    with_pk = analyze(Document("https://x.test/", "text/plain", page + b" Pay by JazzCash."), lexicons, register)
    assert with_pk.targets_pakistan and with_pk.verdict == "flag"


@pytest.mark.parametrize(
    "text",
    [
        "PKR president Anwar spoke at the rally; PKR won 31 seats.",
        "Pokhara (PKR) 165/6 beat Kathmandu; PKR 2 points.",
        "PKR is an acronym used by many organisations.",
    ],
)
def test_pkr_acronym_is_not_currency(text: str, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    kinds = _kinds(analyze(Document("https://x.test/", "text/plain", text.encode()), lexicons, register))
    assert "pkr_amount" not in kinds and "pkr_market" not in kinds


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("pay with EsayPaisa", "payment_rail", "Easypaisa"),
        ("pay with Jazz Cash", "payment_rail", "JazzCash"),
        ("pay with Jazz-cash", "payment_rail", "JazzCash"),
        ('"identifier":"EasypaisaPK"', "payment_rail", "Easypaisa"),
        ("MeezanBank", "payment_rail", "Meezan Bank"),
        ("UnitedBankLimited", "payment_rail", "United Bank Limited"),
        # A PKR pair is a quote with a price next to it, a weaker mention without one.
        ("trade BTC_PKR 27,410,500 now", "pkr_market", "BTC/PKR"),
        ("trade BTCPKR: Rs 27,410,500", "pkr_market", "BTC/PKR"),
        ("289.40 usdt-pkr", "pkr_market", "USDT/PKR"),
        ("USDT/PKR\n289.40", "pkr_market", "USDT/PKR"),
        ("symbol: USDT_PKR price: 290.10", "pkr_market", "USDT/PKR"),
        ("trade BTC_PKR now", "pkr_market", "BTC/PKR named (no price next to it)"),
        ("the usdt-pkr rate moved", "pkr_market", "USDT/PKR named (no price next to it)"),
        ("BTC/PKR 2024 forecast", "pkr_market", "BTC/PKR named (no price next to it)"),
        ("back in 2023 BTC/PKR rose", "pkr_market", "BTC/PKR named (no price next to it)"),
        ("31,550,000 BTC/PKR", "pkr_market", "BTC/PKR"),
        ("?fiat=PKR&asset=USDT", "pkr_market", "PKR fiat field"),
        ("call +92 300 1234567", "pk_phone", "+92 300 1234567"),
        ("call +92 (0)300 1234567", "pk_phone", "+92 (0)300 1234567"),
        ("call 0092-300-1234567", "pk_phone", "0092-300-1234567"),
        ("call 0300-1234567", "pk_phone", "0300-1234567"),
        ("CNIC 35202-1234567-1", "cnic_request", "CNIC number"),
        ("id 35202-1234567-1 only", "cnic_request", "CNIC number"),
        ("پاکستانی روپیہ", "pkr_amount", "پاکستانی روپیہ"),
        ("قیمت 290 روپے", "pkr_amount", "290 روپے"),
        ("دفتر لاہور میں", "pk_city", "Lahore"),
        ("PKR 5,000 minimum", "pkr_amount", "PKR 5,000"),
        ("5000 PKR minimum", "pkr_amount", "5000 PKR"),
        ("https://apps.apple.com/pk/app/x/id1", "pk_app_store", "apps.apple.com/pk/"),
    ],
)
def test_signal_rules(text: str, kind: str, value: str, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    kinds = _kinds(analyze(Document("https://x.test/", "text/plain", text.encode()), lexicons, register))
    assert value in kinds.get(kind, set()), kinds


def test_signal_cap_keeps_strong_values(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    generic = " ".join(["buy", "sell", "trade", "trading", "deposit", "withdraw", "wallet", "markets", "sign up", "log in",
                        "buy now", "sell now", "deposit now", "withdraw now", "withdrawal", "register now"])
    page = (generic + " then buy bitcoin and P2P trading").encode()
    result = analyze(Document("https://x.test/", "text/plain", page), lexicons, register)
    values = _kinds(result)["crypto_service"]
    assert {"buy bitcoin", "p2p trading"} <= values
    assert len(values) <= lexicons.scoring.max_signals_per_kind


def test_text_whose_lowercase_changes_length(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    # "İ".lower() is two code points: matching falls back to case-insensitive passes on the original.
    page = "İSTANBUL İİ: Buy USDT with JazzCash, EasypaisaPK; BTC/PKR 27,410,500; fiat: PKR; P2P trading".encode()
    result = analyze(Document("https://x.test/", "text/plain", page), lexicons, register)
    kinds = _kinds(result)
    assert {"USDT", "BTC"} <= kinds["crypto_asset"]
    assert {"JazzCash", "Easypaisa"} <= kinds["payment_rail"]
    assert "BTC/PKR" in kinds["pkr_market"] and "PKR fiat field" in kinds["pkr_market"]
    assert result.verdict == "flag"


def test_phrase_hides_no_ticker(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    kinds = _kinds(analyze(Document("https://x.test/", "text/plain", b"buy USDT today, buy usdt"), lexicons, register))
    assert "USDT" in kinds["crypto_asset"] and "buy usdt" in kinds["crypto_service"]


def _p2p_page(ads: int, fiat: str, method: str) -> bytes:
    import json

    items = ",".join(
        json.dumps({"adv": {"advNo": str(10**19 + i), "asset": "USDT", "fiatUnit": fiat, "price": "290.10",
                            "tradeMethods": [{"identifier": method, "tradeMethodName": method}]},
                    "advertiser": {"nickName": f"trader{i}", "userType": "merchant"}})
        for i in range(ads)
    )
    return f'{{"code":"000000","data":[{items}],"total":{ads}}}'.encode()


def test_json_above_the_whole_parse_cap_is_streamed(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    """A P2P API response too big to parse at once is still walked key by key: PKR ads are flagged
    with JSON-pointer locators, and a CNY response of the same size is not."""
    from scanner.detection.document import MAX_JSON_BYTES

    count = MAX_JSON_BYTES // 200 + 1000
    body = _p2p_page(count, "PKR", "EasypaisaPK")
    assert len(body) > MAX_JSON_BYTES
    result = analyze(Document("https://p2p.example.test/api", "application/json", body), lexicons, register)
    assert result.verdict == "flag"
    by_value = {s.value: s.locator for s in result.signals}
    assert by_value["PKR fiat field"] == "#/data/0/adv/fiatUnit"
    assert by_value["Easypaisa"] == "#/data/0/adv/tradeMethods/0/identifier"
    other = analyze(Document("https://p2p.example.test/api", "application/json", _p2p_page(count, "CNY", "Alipay")),
                    lexicons, register)
    assert other.crypto_service and other.verdict == "clear"
    assert len(result.signals) <= lexicons.scoring.max_signals_per_kind * len({s.kind for s in result.signals})


def test_streamed_json_matches_the_whole_parse() -> None:
    """The streaming walker yields the same parts and pointers as parsing the document whole,
    and cuts them into windows of the requested size."""
    import json

    from scanner.detection.document import Extracted, _stream_json, _walk_json

    from .conftest import CORPUS

    for path in sorted(CORPUS.glob("*.json")):
        whole = Extracted("json")
        _walk_json(json.loads(path.read_bytes()), "", "", whole, "")
        windows = list(_stream_json(path.read_bytes(), window_chars=100))
        assert len(windows) > 1, path.name
        assert all(len(w.text) < 100 + max(map(len, w.parts)) + 1 for w in windows)
        assert [p for w in windows for p in w.parts] == whole.parts, path.name
        assert [loc for w in windows for loc in w.locators] == whole.locators, path.name


def test_broken_json_above_the_cap_is_read_as_text(lexicons, register) -> None:  # type: ignore[no-untyped-def]
    from scanner.detection.document import MAX_JSON_BYTES

    body = _p2p_page(MAX_JSON_BYTES // 200 + 1000, "PKR", "JazzCash")[:-2]  # truncated: not JSON
    result = analyze(Document("https://p2p.example.test/api", "application/json", body), lexicons, register)
    assert "JazzCash" in _kinds(result)["payment_rail"]
    assert all(s.locator.startswith("char:") for s in result.signals if s.kind != "pk_locale")
