"""The simulated web: proxying, sites, misbehaving host, exchange APIs and their faults."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from scanner.config import Config
from scanner.world import World, catalogue, ground_truth, iban_is_valid, pk_iban
from scanner.world.apis import BINANCE_METHODS, FAULTS

BINANCE = "http://p2p.binance.test/bapi/c2c/v2/friendly/c2c/adv/search"
OKX = "http://www.okx.test/v3/c2c/tradingOrders/books"
BYBIT = "http://api2.bybit.test/fiat/otc/item/online"
BYBIT_PAYMENTS = "http://api2.bybit.test/fiat/otc/configuration/queryAllPaymentList"
URDU_ONLY = set("ٹڈڑںےھہ۔")
ROOT = Path(__file__).resolve().parents[2]


def binance_body(page: int = 1, rows: int = 20, side: str = "BUY", fiat: str = "PKR") -> dict:
    return {
        "page": page,
        "rows": rows,
        "tradeType": side,
        "asset": "USDT",
        "fiat": fiat,
        "payTypes": [],
        "countries": [],
        "publisherType": None,
    }


def bybit_body(page: int = 1, size: int = 10, side: str = "1", fiat: str = "PKR") -> dict:
    return {
        "userId": "",
        "tokenId": "USDT",
        "currencyId": fiat,
        "payment": [],
        "side": side,
        "size": str(size),
        "page": str(page),
    }


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


# ---------------------------------------------------------------- transport


def test_answers_by_proxy(http: requests.Session) -> None:
    r = http.get("http://rupee-exchange.test/", timeout=5)
    assert r.status_code == 200
    assert "JazzCash" in r.text and "<nav" in r.text and 'property="og:title"' in r.text


def test_answers_by_host_header(world: World) -> None:
    r = requests.get(f"http://127.0.0.1:{world.port}/p2p", headers={"Host": "desip2p.test"}, timeout=5)
    assert r.status_code == 200 and "DesiP2P" in r.text


def test_proxy_env_var_is_enough(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", world.proxy_url)
    monkeypatch.setenv("http_proxy", world.proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert requests.get("http://coinatlas.test/", timeout=5).status_code == 200


def test_connect_is_refused_with_a_message(world: World) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", world.port), timeout=5) as sock:
        sock.sendall(b"CONNECT rupee-exchange.test:443 HTTP/1.1\r\nHost: rupee-exchange.test:443\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        reply = data.decode()
    assert reply.startswith("HTTP/1.1 405") and "http:// only" in reply


def test_unknown_host_is_502(http: requests.Session) -> None:
    assert http.get("http://no-such-platform.test/", timeout=5).status_code == 502


def test_slow_response_does_not_block_others(world: World, http: requests.Session) -> None:
    started = time.monotonic()
    slow = threading.Thread(
        target=lambda: requests.get("http://badhost.test/slow?delay=1.5", proxies=world.proxies, timeout=5)
    )
    slow.start()
    time.sleep(0.1)
    for _ in range(5):
        assert http.get("http://pakdx.test/", timeout=5).status_code == 200
    assert time.monotonic() - started < 1.2
    slow.join()


# ---------------------------------------------------------------- ground truth and catalogue


def test_ground_truth_counts() -> None:
    truth = ground_truth()
    kinds = [t["kind"] for t in truth.values()]
    assert kinds.count("unlicensed") >= 8
    assert kinds.count("lookalike") >= 8
    assert kinds.count("licensed") == 2
    assert kinds.count("mirror") == 1
    assert all(t["verdict"] in ("flag", "clear") for t in truth.values())
    for t in truth.values():
        if t["kind"] in ("unlicensed", "mirror"):
            assert t["verdict"] == "flag"
        if t["kind"] in ("licensed", "lookalike", "directory", "hosted", "misbehaving"):
            assert t["verdict"] == "clear"
    mirror = next(t for t in truth.values() if t["kind"] == "mirror")
    assert truth[mirror["mirror_of"]]["kind"] == "unlicensed"
    # sindhbit.test is reached through links; the others only through discovery sources (sources.yaml)
    assert [h for h, t in truth.items() if not t["configured"] and t["kind"] == "unlicensed"] == [
        "sindhbit.test", "pkrx.test", "usdtpak.test", "bazaarcoin.test", "karachiotc.test", "mehranex.test",
        "chaip2p.test",
    ]  # fmt: skip


def test_ground_truth_endpoint(http: requests.Session) -> None:
    served = http.get("http://world.test/__world/ground-truth", timeout=5).json()
    assert served == json.loads(json.dumps(ground_truth()))
    assert http.get("http://rupee-exchange.test/__world/ground-truth", timeout=5).json() == served
    assert "rupee-exchange.test" in http.get("http://world.test/", timeout=5).text


def test_every_platform_serves_every_page(http: requests.Session) -> None:
    for platform in catalogue():
        for host in platform["hosts"] + platform["mirrors"]:
            for page in platform["pages"]:
                r = http.get(f"http://{host}{page['path']}", timeout=5)
                assert r.status_code == 200, (host, page["path"])
                assert r.text.startswith("<!DOCTYPE html>")
                assert 'property="og:site_name"' in r.text and '<meta charset="utf-8">' in r.text
                if platform.get("shell") == "script":
                    # The page exists only as the view the app fetches; the shell shows none of it.
                    view = http.get(
                        f"http://{host}/api/view", params={"path": page["path"]}, timeout=5
                    ).json()
                    full = base64.b64decode(view["html"]).decode("utf-8")
                    assert "<nav" in full and "<footer" in full and "application/ld+json" in full
                    assert "<nav" not in r.text and '<div id="app"></div>' in r.text
                elif platform.get("shell") != "nextjs":
                    assert "<nav" in r.text and "<footer" in r.text and "application/ld+json" in r.text


def test_every_page_is_within_depth_3(http: requests.Session) -> None:
    for platform in catalogue():
        host = platform["hosts"][0]
        wanted = {p["path"] for p in platform["pages"] if p.get("nav", True)}
        if platform.get("shell") in ("nextjs", "script"):
            # An app shell has no anchors; its sitemap.xml is what a crawler follows.
            sitemap = http.get(f"http://{host}/sitemap.xml", timeout=5).text
            assert all(f"<loc>http://{host}{p}</loc>" in sitemap for p in wanted)
            continue
        seen, frontier = {"/"}, ["/"]
        for _depth in range(3):
            nxt = []
            for path in frontier:
                for href in links(http.get(f"http://{host}{path}", timeout=5).text):
                    if href.startswith("/") and href not in seen:
                        seen.add(href)
                        nxt.append(href)
            frontier = nxt
        assert wanted <= seen, (host, wanted - seen)


def test_robots_txt(http: requests.Session) -> None:
    robots = http.get("http://rupee-exchange.test/robots.txt", timeout=5)
    assert robots.status_code == 200 and "Disallow: /private/" in robots.text
    assert "Sitemap: http://rupee-exchange.test/sitemap.xml" in robots.text
    assert "Disallow: /private/" not in http.get("http://pakdx.test/robots.txt", timeout=5).text
    sitemap = http.get("http://rupee-exchange.test/sitemap.xml", timeout=5).text
    assert "<loc>http://rupee-exchange.test/markets</loc>" in sitemap


def test_urdu_platform(http: requests.Session) -> None:
    text = http.get("http://sarmaya-crypto.test/", timeout=5).text
    assert '<html lang="ur" dir="rtl">' in text and 'hreflang="ur-PK"' in text
    for word in ("کرپٹو کرنسی", "بٹ کوائن", "ٹریڈنگ", "جاز کیش", "ایزی پیسہ", "منافع", "رقم جمع کروائیں"):
        assert word in text + http.get("http://sarmaya-crypto.test/deposit", timeout=5).text, word


def test_roman_urdu_platform(http: requests.Session) -> None:
    text = http.get("http://paisakamao.test/", timeout=5).text
    for phrase in ("paisay kamayein", "JazzCash se deposit karein", "USDT khareedein"):
        assert phrase in text


def test_pkr_markets_page(http: requests.Session) -> None:
    text = http.get("http://indus-spot.test/markets", timeout=5).text
    assert "BTC/PKR" in text and "USDT_PKR" in text and 'type="application/json"' in text


def test_deposit_page_has_a_valid_pakistani_iban(http: requests.Session) -> None:
    text = http.get("http://crescentbit.test/deposit", timeout=5).text
    ibans = re.findall(r"\bPK\s?\d{2}\s?[A-Z]{4}(?:\s?\d{4}){4}\b", text)
    assert len(ibans) == 3 and all(iban_is_valid(i) for i in ibans)
    assert {"Raast", "IBFT", "Meezan", "HBL", "UBL"} <= {
        w for w in ("Raast", "IBFT", "Meezan", "HBL", "UBL") if w in text
    }


def test_iban_computation() -> None:
    assert iban_is_valid("PK36SCBL0000001123456702")  # a published example
    assert pk_iban("SCBL", "0000001123456702") == "PK36SCBL0000001123456702"
    assert not iban_is_valid("PK37SCBL0000001123456702")


def test_p2p_page(http: requests.Session) -> None:
    text = http.get("http://desip2p.test/p2p", timeout=5).text
    prices = [float(p) for p in re.findall(r'class="price">([\d.]+) PKR', text)]
    assert len(prices) >= 10 and all(285 <= p <= 295 for p in prices)
    assert "Easypaisa" in text and "JazzCash" in text and "Bank Transfer" in text


def test_nextjs_shell(http: requests.Session) -> None:
    text = http.get("http://nextrade.test/", timeout=5).text
    match = re.search(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', text, re.S)
    assert match and '<div id="__next"></div>' in text
    visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert "JazzCash" not in visible
    props = json.loads(match.group(1))["props"]["pageProps"]
    assert "JazzCash" in props["paymentMethods"]


def test_whatsapp_and_offices(http: requests.Session) -> None:
    text = http.get("http://margalla-exchange.test/contact", timeout=5).text
    assert "https://wa.me/923" in text
    assert all(city in text for city in ("Karachi", "Lahore", "Islamabad"))


def test_mirror_serves_the_same_brand(http: requests.Session) -> None:
    a = http.get("http://rupee-exchange.test/deposit", timeout=5).text
    b = http.get("http://rupeex-mirror.test/deposit", timeout=5).text
    assert "RupeeX" in b and a.replace("rupeex-mirror.test", "rupee-exchange.test") == b.replace(
        "rupeex-mirror.test", "rupee-exchange.test"
    )


def test_lookalike_scripts(http: requests.Session) -> None:
    persian = http.get("http://tomanex.test/", timeout=5).text
    assert "تومان" in persian and not (URDU_ONLY & set(persian))
    arabic = http.get("http://riyalcrypto.test/", timeout=5).text
    assert "ريال" in arabic and "stc pay" in arabic and not (URDU_ONLY & set(arabic))
    indian = http.get("http://bharatcoin.test/", timeout=5).text
    assert "₹" in indian and "UPI" in indian
    bank = http.get("http://himalayabank.test/advisory/virtual-currencies", timeout=5).text
    assert "BPRD Circular No. 03 of 2018" in bank
    signup = http.get("http://globex.test/signup", timeout=5).text
    assert signup.count("<option") >= 100 and ">Pakistan<" in signup


def test_links_reach_discovery_only_platform_and_hosted_pages(http: requests.Session) -> None:
    directory = links(http.get("http://coinatlas.test/", timeout=5).text)
    news = links(http.get("http://coinchronicle.test/news/pakistan-p2p-boom", timeout=5).text)
    assert "http://sindhbit.test/" in directory and "http://sindhbit.test/" in news
    home = links(http.get("http://rupee-exchange.test/", timeout=5).text)
    hosted = [
        h for h in home if h.startswith(("http://t.me/", "http://play.google.com/", "http://apps.apple.com/"))
    ]
    assert len(hosted) == 3
    for url in hosted:
        r = http.get(url, timeout=5)
        assert r.status_code == 200 and "http://rupee-exchange.test/" in r.text
    assert "gl=PK" in hosted[1] and "hl=ur" in hosted[1] and "/pk/app/" in hosted[2]
    channel = http.get("http://t.me/sarmaya_crypto_pk", timeout=5).text
    assert "جاز کیش" in channel
    assert http.get("http://t.me/no_such_channel", timeout=5).status_code == 404


# ---------------------------------------------------------------- misbehaving host


def test_slow_endpoint_times_out(http: requests.Session) -> None:
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get("http://badhost.test/slow", timeout=0.3)


def test_big_page(http: requests.Session) -> None:
    r = http.get("http://badhost.test/big", timeout=20)
    assert int(r.headers["Content-Length"]) == 20 * 1024 * 1024 == len(r.content)


def test_redirect_loop(http: requests.Session) -> None:
    with pytest.raises(requests.exceptions.TooManyRedirects):
        http.get("http://badhost.test/loop/a", timeout=5)


def test_500(http: requests.Session) -> None:
    assert http.get("http://badhost.test/error500", timeout=5).status_code == 500
    flaky = http.get("http://badhost.test/flaky", timeout=5)
    assert flaky.status_code == 503 and flaky.headers["Retry-After"] == "1"


def test_wrong_charsets(http: requests.Session) -> None:
    cp = http.get("http://badhost.test/charset/cp1256", timeout=5)
    assert "utf-8" in cp.headers["Content-Type"]
    with pytest.raises(UnicodeDecodeError):
        cp.content.decode("utf-8")
    assert "کرپٹو" in cp.content.decode("cp1256")
    latin = http.get("http://badhost.test/charset/latin1", timeout=5)
    assert "iso-8859-1" in latin.headers["Content-Type"]
    assert "کرپٹو" in latin.content.decode("utf-8") and "کرپٹو" not in latin.text


def test_truncated_gzip(http: requests.Session) -> None:
    with pytest.raises((requests.exceptions.ContentDecodingError, requests.exceptions.ChunkedEncodingError)):
        http.get("http://badhost.test/gzip-truncated", timeout=5)
    with pytest.raises(requests.exceptions.ContentDecodingError):
        http.get("http://badhost.test/gzip-corrupt", timeout=5)


def test_badhost_index_links_everything(http: requests.Session) -> None:
    hrefs = links(http.get("http://badhost.test/", timeout=5).text)
    assert {"/slow", "/big", "/loop/a", "/error500", "/charset/cp1256", "/gzip-truncated"} <= set(hrefs)


def test_sprawl(http: requests.Session) -> None:
    r = http.get("http://sprawl.test/page/7", timeout=5)
    assert 10_000 <= len(r.content) <= 20_000
    hrefs = [h for h in links(r.text) if h.startswith("/page/")]
    assert "/page/8" in hrefs and len(hrefs) >= 6
    assert http.get("http://sprawl.test/page/1999", timeout=5).status_code == 200
    assert http.get("http://sprawl.test/page/2000", timeout=5).status_code == 404


# ---------------------------------------------------------------- exchange APIs


def test_binance_p2p_shape_and_pagination(http: requests.Session) -> None:
    for side in ("BUY", "SELL"):
        ads, page = [], 1
        while True:
            data = http.post(BINANCE, json=binance_body(page, 20, side), timeout=5).json()
            assert data["code"] == "000000" and data["success"] is True and data["message"] is None
            assert data["total"] == 45
            if not data["data"]:
                break
            ads += data["data"]
            page += 1
        assert len(ads) == 45 and page == 4
        assert len({a["adv"]["advNo"] for a in ads}) == 45
        adv, advertiser = ads[0]["adv"], ads[0]["advertiser"]
        for key in (
            "advNo",
            "tradeType",
            "asset",
            "fiatUnit",
            "price",
            "minSingleTransAmount",
            "maxSingleTransAmount",
            "surplusAmount",
            "tradableQuantity",
            "tradeMethods",
        ):
            assert key in adv
        assert adv["fiatUnit"] == "PKR" and isinstance(adv["price"], str)
        assert {"identifier", "tradeMethodName", "payType"} <= set(adv["tradeMethods"][0])
        assert re.fullmatch(r"s[0-9a-f]{32}", advertiser["userNo"])
        assert {"nickName", "monthOrderCount", "monthFinishRate", "userType"} <= set(advertiser)
        prices = [float(a["adv"]["price"]) for a in ads]
        assert all(270 <= p <= 310 for p in prices)
        idents = {m["identifier"] for a in ads for m in a["adv"]["tradeMethods"]}
        assert {"EasypaisaPK", "JazzCash", "Raast"} <= idents <= {i for i, _ in BINANCE_METHODS["PKR"]}


def test_binance_rows_capped_and_other_fiats(http: requests.Session) -> None:
    assert len(http.post(BINANCE, json=binance_body(1, 50), timeout=5).json()["data"]) == 20
    inr = http.post(BINANCE, json=binance_body(1, 20, fiat="INR"), timeout=5).json()
    idents = {m["identifier"] for a in inr["data"] for m in a["adv"]["tradeMethods"]}
    assert inr["total"] == 30 and idents & {"UPI", "IMPS"} and not idents & {"JazzCash", "EasypaisaPK"}
    assert http.post(BINANCE, json=binance_body(fiat="XXX"), timeout=5).json()["total"] == 0
    filtered = http.post(BINANCE, json={**binance_body(), "payTypes": ["JazzCash"]}, timeout=5).json()
    assert 0 < filtered["total"] < 45


def test_okx_p2p(http: requests.Session) -> None:
    for side in ("buy", "sell"):
        r = http.get(
            OKX,
            params={
                "quoteCurrency": "pkr",
                "baseCurrency": "usdt",
                "side": side,
                "paymentMethod": "all",
                "userType": "all",
            },
            timeout=5,
        ).json()
        assert r["code"] == 0
        items = r["data"][side]
        other = r["data"]["sell" if side == "buy" else "buy"]
        assert len(items) == 32 and other == []
        item = items[0]
        for key in (
            "id",
            "nickName",
            "merchantId",
            "price",
            "availableAmount",
            "quoteMinAmountPerOrder",
            "quoteMaxAmountPerOrder",
            "quoteCurrency",
            "paymentMethods",
            "completedOrderQuantity",
            "completedRate",
        ):
            assert key in item
        assert item["quoteCurrency"] == "pkr" and isinstance(item["price"], str)
        assert {m for i in items for m in i["paymentMethods"]} >= {"easypaisa", "jazzcash", "raast", "bank"}


def test_bybit_p2p(http: requests.Session) -> None:
    names = {
        p["paymentType"]: p["paymentName"]
        for p in http.post(BYBIT_PAYMENTS, json={}, timeout=5).json()["result"]["paymentConfigVo"]
    }
    assert {"Easypaisa", "JazzCash", "Bank Transfer", "Raast"} <= set(names.values())
    for side in ("0", "1"):
        items, page = [], 1
        while True:
            r = http.post(BYBIT, json=bybit_body(page, 10, side), timeout=5).json()
            assert r["ret_code"] == 0 and r["ret_msg"] == "SUCCESS" and r["result"]["count"] == 37
            if not r["result"]["items"]:
                break
            items += r["result"]["items"]
            page += 1
        assert len(items) == 37
        item = items[0]
        for key in (
            "id",
            "nickName",
            "userId",
            "tokenId",
            "currencyId",
            "side",
            "price",
            "lastQuantity",
            "minAmount",
            "maxAmount",
            "payments",
            "recentExecuteRate",
            "finishNum",
        ):
            assert key in item
        assert item["side"] == int(side) and item["currencyId"] == "PKR"
        assert all(p in names for i in items for p in i["payments"])


def test_market_lists(http: requests.Session) -> None:
    info = http.get("http://api.indus-spot.test/api/v3/exchangeInfo", timeout=5).json()
    pkr = [s for s in info["symbols"] if s["quoteAsset"] == "PKR"]
    assert {"symbol", "status", "baseAsset", "quoteAsset"} <= set(pkr[0]) and len(pkr) == 4
    other = http.get("http://api.globex.test/api/v3/exchangeInfo", timeout=5).json()
    assert other["symbols"] and not [s for s in other["symbols"] if s["quoteAsset"] == "PKR"]
    ccxt = http.get("http://api.indus-spot.test/markets.json", timeout=5).json()
    assert ccxt["BTC/PKR"]["id"] == "BTCPKR" and ccxt["BTC/PKR"]["quote"] == "PKR"
    tickers = http.get("http://api.indus-spot.test/api/v3/ticker/price", timeout=5).json()
    assert {"symbol": "USDTPKR", "price": "286.00"} in tickers


# ---------------------------------------------------------------- API faults


def test_fault_429_once_then_success(http: requests.Session, session_id: str) -> None:
    url = f"{BINANCE}?fault=429_once&session={session_id}"
    first = http.post(url, json=binance_body(), timeout=5)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    for page in (1, 2, 3):
        assert http.post(url, json=binance_body(page), timeout=5).status_code == 200
    other = http.post(f"{BINANCE}?fault=429_once&session={session_id}x", json=binance_body(), timeout=5)
    assert other.status_code == 429


def test_fault_by_path_prefix(http: requests.Session, session_id: str) -> None:
    base = f"http://api2.bybit.test/__fault/429_once@{session_id}"
    assert http.post(base + "/fiat/otc/item/online", json=bybit_body(), timeout=5).status_code == 429
    assert (
        http.post(base + "/fiat/otc/item/online", json=bybit_body(), timeout=5).json()["result"]["count"]
        == 37
    )


def test_reset_endpoint(http: requests.Session, session_id: str) -> None:
    url = f"{OKX}?quoteCurrency=pkr&side=buy&fault=500_once&session={session_id}"
    assert http.get(url, timeout=5).status_code == 500
    assert http.get(url, timeout=5).status_code == 200
    http.get("http://world.test/__world/reset", timeout=5)
    assert http.get(url, timeout=5).status_code == 500


@pytest.mark.parametrize(
    "url,method",
    [
        (BINANCE, "post"),
        (OKX + "?quoteCurrency=pkr&side=buy", "get"),
        (BYBIT, "post"),
        ("http://api.indus-spot.test/api/v3/exchangeInfo", "get"),
    ],
)
def test_every_fault_on_every_api(http: requests.Session, url: str, method: str) -> None:
    body = binance_body() if "binance" in url else bybit_body()
    sep = "&" if "?" in url else "?"

    def call(fault: str) -> requests.Response:
        return http.request(
            method, f"{url}{sep}fault={fault}&session=all-{fault}-{url}", json=body, timeout=5
        )

    assert call("429").status_code == 429 and call("429").headers["Retry-After"] == "1"
    for status in ("500", "502", "503"):
        assert call(status).status_code == int(status)
    malformed = call("malformed")
    assert malformed.status_code == 200 and malformed.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        malformed.json()
    html_page = call("html200")
    assert html_page.status_code == 200 and html_page.headers["Content-Type"].startswith("text/html")
    geo = call("geo403")
    assert geo.status_code == 403 and "not available in your region" in geo.text
    schema = call("schema").json()
    assert "unitPrice" in json.dumps(schema) or "instruments" in schema
    assert not {"data", "symbols"} & set(schema) or ("bids" in schema["data"] or "asks" in schema["data"])
    empty = call("empty").json()
    counts = [
        empty.get("total"),
        (empty.get("result") or {}).get("count"),
        empty.get("symbols"),
        (empty.get("data") or {}).get("buy") if isinstance(empty.get("data"), dict) else None,
    ]
    assert any(c in (0, []) for c in counts)
    assert http.request(method, f"{url}{sep}fault=bogus", json=body, timeout=5).status_code == 400
    assert set(FAULTS) >= {"429_once", "malformed", "schema", "html200", "empty", "geo403", "500"}


# ---------------------------------------------------------------- demo config and CLI


def test_demo_config_validates_and_matches_the_world() -> None:
    config = Config(ROOT / "config" / "demo", env={})
    config.validate_all()
    truth = ground_truth()
    configured = {str(seed.host) for site in config.targets.sites for seed in site.seeds}
    assert "sindhbit.test" not in configured
    for host, t in truth.items():
        if t["kind"] in ("unlicensed", "licensed", "lookalike", "mirror", "misbehaving") and t["configured"]:
            assert host in configured, host
    assert {str(s.host) for s in config.targets.discovery.seeds} >= {"coinatlas.test", "coinchronicle.test"}
    assert {p.adapter for p in config.targets.pollers} == {"binance_p2p", "okx_p2p", "bybit_p2p", "markets"}
    status = {d: p.status for p in config.register.platforms for d in p.domains}
    assert [h for h, t in truth.items() if t["kind"] == "licensed"] == [
        d for d, s in status.items() if s == "licensed"
    ]
    assert status["binance.test"] == "noc" and truth["p2p.binance.test"]["verdict"] == "flag"


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "world", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "--port" in result.stdout


def test_binance_web_page(http: requests.Session) -> None:
    text = http.get("http://p2p.binance.test/en/trade/all-payments/USDT?fiat=PKR", timeout=5).text
    assert "Easypaisa-PK Only" in text or "JazzCash" in text


SCRAPY_SPIDER = """
import json, os, sys
import scrapy
from scrapy.crawler import CrawlerProcess
got = []
class Probe(scrapy.Spider):
    name = "probe"
    start_urls = ["http://coinatlas.test/", "http://rupee-exchange.test/private/admin"]
    custom_settings = {"ROBOTSTXT_OBEY": True, "LOG_LEVEL": "ERROR", "DEPTH_LIMIT": 1, "TELNETCONSOLE_ENABLED": False}
    def parse(self, response):
        got.append(response.url)
        if "coinatlas" in response.url:
            yield response.follow("http://sindhbit.test/", self.parse)
process = CrawlerProcess()
process.crawl(Probe)
process.start()
print(json.dumps(sorted(set(got))))
"""


def test_scrapy_reaches_the_world_through_http_proxy(world: World, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "http_proxy": world.proxy_url, "HOME": str(tmp_path)}
    # A file, not -c: Scrapy inspects the callback's source.
    script = tmp_path / "probe.py"
    script.write_text(SCRAPY_SPIDER)
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    # robots.txt of rupee-exchange.test disallows /private/, so Scrapy never fetches it.
    assert got == ["http://coinatlas.test/", "http://sindhbit.test/"], result.stderr[-3000:]


def test_fault_empty_page2_and_slow(http: requests.Session, world: World) -> None:
    first = http.post(f"{BINANCE}?fault=empty_page2", json=binance_body(1), timeout=5).json()
    second = http.post(f"{BINANCE}?fault=empty_page2", json=binance_body(2), timeout=5).json()
    assert len(first["data"]) == 20 and second["data"] == [] and second["total"] == 45
    page2 = http.post(f"{BYBIT}?fault=empty_page2", json=bybit_body(2), timeout=5).json()["result"]
    assert page2["items"] == [] and page2["count"] == 37
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{OKX}?quoteCurrency=pkr&side=buy&fault=slow", timeout=0.3)


def test_cli_runs_until_sigterm(tmp_path: Path) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli.main", "world", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        proxy = None
        deadline = time.monotonic() + 30
        while proxy is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = re.search(r"proxy: (http://127\.0\.0\.1:\d+)", line)
            proxy = match.group(1) if match else None
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert proxy
        r = requests.get("http://pakdx.test/", proxies={"http": proxy}, timeout=5)
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_hosted_pages_map_to_platforms() -> None:
    from scanner.world import hosted_pages

    pages = hosted_pages()
    assert pages["http://t.me/sarmaya_crypto_pk"] == "sarmaya-crypto.test"
    assert (
        pages["http://play.google.com/store/apps/details?id=com.rupeex.app&gl=PK&hl=ur"]
        == "rupee-exchange.test"
    )
    assert set(pages.values()) <= set(ground_truth())


def test_p2p_merchants_post_several_ads_on_both_sides() -> None:
    from scanner.world.apis import binance_ads, bybit_items, okx_orders

    buy, sell = binance_ads("PKR", "USDT", "BUY"), binance_ads("PKR", "USDT", "SELL")
    merchants = {ad["advertiser"]["userNo"] for ad in buy + sell}
    assert 3 <= len(merchants) < len(buy + sell) / 2
    assert {ad["advertiser"]["userNo"] for ad in buy} & {ad["advertiser"]["userNo"] for ad in sell}
    okx = okx_orders("PKR", "usdt", "buy") + okx_orders("PKR", "usdt", "sell")
    assert len({o["merchantId"] for o in okx}) < len(okx) / 2
    bybit = bybit_items("PKR", "USDT", 0) + bybit_items("PKR", "USDT", 1)
    assert len({i["userId"] for i in bybit}) < len(bybit) / 2


def test_javascript_only_sites_show_their_content_only_through_their_script(http: requests.Session) -> None:
    truth = ground_truth()
    assert {h for h, t in truth.items() if t["needs_render"]} == {"khybercoin.test", "pindigadgets.test"}
    assert truth["khybercoin.test"]["verdict"] == "flag" and truth["pindigadgets.test"]["verdict"] == "clear"
    shell = http.get("http://khybercoin.test/", timeout=5).text
    assert "USDT" not in shell and "JazzCash" not in shell
    app = http.get("http://khybercoin.test/static/app.js", timeout=5)
    assert app.headers["Content-Type"].startswith("text/javascript") and "/api/view?path=" in app.text
    view = http.get("http://khybercoin.test/api/view?path=/", timeout=5)
    assert "JazzCash" not in view.text  # base64: no response a crawler reads as text shows the content
    page = base64.b64decode(view.json()["html"]).decode("utf-8")
    assert "USDT/PKR" in page and "JazzCash" in page
    assert http.get("http://khybercoin.test/api/view?path=/nowhere", timeout=5).status_code == 404
