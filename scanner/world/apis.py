"""Simulated exchange APIs (Binance P2P, OKX P2P, Bybit P2P, spot market lists) and their faults."""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from scanner.world.catalogue import BASE_PRICES, rng
from scanner.world.response import Response, html, jsonr, not_found

FAULTS = (
    "429_once",
    "429",
    "500_once",
    "500",
    "502",
    "503",
    "malformed",
    "schema",
    "html200",
    "empty",
    "geo403",
    "empty_page2",
    "slow",
    "hostile_records",
)

# ---------------------------------------------------------------- payment rails per fiat

BINANCE_METHODS: dict[str, list[tuple[str, str]]] = {
    "PKR": [
        ("EasypaisaPK", "Easypaisa-PK Only"),
        ("JazzCash", "JazzCash"),
        ("Raast", "Raast"),
        ("MeezanBank", "Meezan Bank"),
        ("UnitedBankLimited", "United Bank Limited"),
        ("AlliedBankLimited", "Allied Bank Limited, Wholesale Branch"),
        ("Upaisa", "Upaisa"),
        ("SadaPay", "SadaPay"),
        ("NayaPay", "NayaPay"),
        ("BANK", "Bank Transfer"),
    ],
    "INR": [
        ("UPI", "UPI"),
        ("IMPS", "IMPS"),
        ("BankIndia", "Bank Transfer (India)"),
        ("Paytm", "Paytm"),
        ("PhonePe", "PhonePe"),
        ("GPay", "GPay"),
    ],
    "AED": [
        ("BANK", "Bank Transfer"),
        ("SpecificBank", "Specific Bank"),
        ("CashDeposit", "Cash Deposit to Bank"),
    ],
}
OKX_METHODS = {
    "PKR": ["bank", "easypaisa", "jazzcash", "raast", "sadapay", "nayapay"],
    "INR": ["upi", "imps", "bank"],
    "AED": ["bank"],
}
BYBIT_PAYMENTS = {
    "14": "Bank Transfer",
    "377": "Easypaisa",
    "378": "JazzCash",
    "379": "Raast",
    "380": "SadaPay",
    "381": "NayaPay",
    "382": "Meezan Bank",
    "40": "UPI",
    "41": "IMPS",
    "1": "A-Bank",
}
BYBIT_BY_FIAT = {
    "PKR": ["14", "377", "378", "379", "380", "381", "382"],
    "INR": ["40", "41", "14"],
    "AED": ["14"],
}
FIAT_RATE = {"PKR": (284.0, 296.0), "INR": (87.0, 93.0), "AED": (3.66, 3.72)}
FIAT_SYMBOL = {"PKR": "Rs", "INR": "₹", "AED": "د.إ"}
# Ads per side: enough PKR ads for several pages at rows <= 20.
COUNTS = {
    "binance": {"PKR": 45, "INR": 30, "AED": 12},
    "okx": {"PKR": 32, "INR": 20, "AED": 6},
    "bybit": {"PKR": 37, "INR": 22, "AED": 5},
}


def _unit_price(fiat: str, asset: str, r: Any) -> float:
    lo, hi = FIAT_RATE[fiat]
    return r.uniform(lo, hi) * BASE_PRICES.get(asset, 1.0)


# ---------------------------------------------------------------- fault state


class FaultState:
    """Which (session, host, fault) runs have already seen their one-off failure."""

    def __init__(self, slow_seconds: float = 10.0) -> None:
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self.slow_seconds = slow_seconds

    def first(self, session: str, host: str, fault: str) -> bool:
        key = (session, host, fault)
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


def parse_fault(path: str, query: dict[str, list[str]], headers: Any) -> tuple[str, str | None, str]:
    """(path without a /__fault/ prefix, fault name or None, session)."""
    fault = (query.get("fault") or [None])[0]
    session = (query.get("session") or [None])[0] or headers.get("X-World-Session") or "default"
    if path.startswith("/__fault/"):
        spec, _, rest = path[len("/__fault/") :].partition("/")
        path = "/" + rest
        name, _, sess = spec.partition("@")
        fault = name
        if sess:
            session = sess
    return path, fault, session


def fault_response(fault: str, host: str, session: str, state: FaultState) -> Response | None:
    """The response a fault replaces the real one with, or None to answer normally."""
    if fault == "429_once" and not state.first(session, host, fault):
        return None
    if fault == "500_once" and not state.first(session, host, fault):
        return None
    if fault in ("429_once", "429"):
        return jsonr(
            {"code": "429", "message": "Too many requests, please retry later", "success": False},
            status=429,
            headers={"Retry-After": "1"},
        )
    if fault in ("500_once", "500", "502", "503"):
        status = 500 if fault.startswith("500") else int(fault)
        headers = {"Retry-After": "1"} if status == 503 else {}
        return Response(
            status=status, body=b"<html><body><h1>Internal Server Error</h1></body></html>", headers=headers
        )
    if fault == "html200":
        return html(
            "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1>"
            "<p>System upgrade in progress. Please try again later.</p></body></html>"
        )
    if fault == "geo403":
        return html(
            "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1>"
            "<p>This service is not available in your region.</p></body></html>",
            status=403,
        )
    if fault == "malformed":
        return Response(
            body=b'{"code":"000000","data":[{"adv":{"advNo":"1190","price":"28',
            content_type="application/json",
        )
    return None


# hostile_records: the first ads of each page as a hostile (or broken) exchange can send them, one
# problem an ad: a price "NaN", 1e999999 (inf to Python's parser) or an object, an order count of
# 1e300, a price and a quantity of 1e200, and an item that is not an object (each left out by the poll, which keeps the rest); and a
# nickname holding NUL and a lone surrogate (kept, stored with U+FFFD). JSON's own spellings are put
# into the encoded body, which json.dumps cannot write.
_HOSTILE_SPELLINGS = {b'"@@inf@@"': b"1e999999", b"@@nul@@": b"\\u0000", b"@@lone@@": b"\\ud800"}
HOSTILE_NICKNAME = "Karachi@@nul@@OTC@@lone@@"


def _hostile_records(
    chunk: list[Any],
    price: tuple[str, ...],
    count: tuple[str, ...],
    name: tuple[str, ...],
    available: tuple[str, ...],
) -> list[Any]:
    ads: list[Any] = copy.deepcopy(chunk)
    problems = [
        [(price, "NaN")],
        [(price, "@@inf@@")],
        [(price, {"value": "280"})],
        [(count, 1e300)],
        [(price, "1e200"), (available, "1e200")],  # finite, but their product (the volume) is not
        [(name, HOSTILE_NICKNAME)],
    ]
    for ad, changes in zip(ads, problems, strict=False):  # a page may hold fewer ads
        for path, value in changes:
            target = ad
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
    if len(ads) > len(problems):
        ads[len(problems)] = "not an ad"
    return ads


def _hostile_spellings(response: Response, fault: str | None) -> Response:
    if fault != "hostile_records" or not isinstance(response.body, bytes):
        return response
    for placeholder, spelling in _HOSTILE_SPELLINGS.items():
        response.body = response.body.replace(placeholder, spelling)
    return response


# One PKR desk advertises on every exchange under (nearly) the same nickname, and has its own site
# (karachiotc.test): the lead that ties platforms together (scanner.discovery.leads).
DESK_NAMES = {"binance": "KarachiOTC", "okx": "Karachi OTC", "bybit": "Karachi_OTC"}


def _merchant(exchange: str, fiat: str, r: Any, ads: int) -> tuple[Any, str | None]:
    """A seeded generator for one advertiser of a small per-exchange pool, and its fixed nickname if
    it is the desk every exchange has (else None: the nickname is drawn from the generator).

    Real P2P desks have merchants who post many ads on both sides; drawing advertisers from a pool
    (about one per three ads) makes merchant counts differ from ad counts, as they do on the real APIs.
    """
    index = r.randrange(max(3, ads // 3))
    return rng(exchange, fiat, "merchant", index), DESK_NAMES[
        exchange
    ] if index == 0 and fiat == "PKR" else None


# ---------------------------------------------------------------- Binance P2P


def binance_ads(fiat: str, asset: str, trade_type: str) -> list[dict[str, Any]]:
    methods = BINANCE_METHODS.get(fiat, [])
    n = COUNTS["binance"].get(fiat, 0) if asset in BASE_PRICES else 0
    r = rng("binance", fiat, asset, trade_type)
    ads = []
    for _ in range(n):
        price = _unit_price(fiat, asset, r)
        chosen = sorted(r.sample(methods, k=r.randint(1, min(3, len(methods)))))
        quantity = round(
            r.uniform(20, 8000) / BASE_PRICES.get(asset, 1.0), 2 if asset in ("USDT", "USDC") else 6
        )
        min_fiat = r.choice([500, 1000, 2000, 5000, 10000]) if fiat == "PKR" else r.choice([100, 500, 1000])
        max_fiat = round(quantity * price, 2)
        who, desk = _merchant("binance", fiat, r, n)
        user_no = "s" + who.getrandbits(128).to_bytes(16, "big").hex()
        merchant = who.random() < 0.4
        ads.append(
            {
                "adv": {
                    "advNo": str(11500000000000000000 + r.getrandbits(50)),
                    "classify": "mass",
                    # Binance lists the advertiser's side: a user who BUYs sees SELL ads.
                    "tradeType": "SELL" if trade_type == "BUY" else "BUY",
                    "asset": asset,
                    "fiatUnit": fiat,
                    "advStatus": None,
                    "priceType": None,
                    "priceFloatingRatio": None,
                    "rateFloatingRatio": None,
                    "currencyRate": None,
                    "price": f"{price:.2f}",
                    "initAmount": None,
                    "surplusAmount": f"{quantity}",
                    "amountAfterEditing": None,
                    "maxSingleTransAmount": f"{max(max_fiat, min_fiat * 2):.2f}",
                    "minSingleTransAmount": f"{min_fiat:.2f}",
                    "buyerKycLimit": None,
                    "buyerRegDaysLimit": None,
                    "buyerBtcPositionLimit": None,
                    "remarks": None,
                    "autoReplyMsg": "",
                    "payTimeLimit": 15,
                    "tradeMethods": [
                        {
                            "payId": None,
                            "payMethodId": "",
                            "payType": ident,
                            "payAccount": None,
                            "payBank": None,
                            "paySubBank": None,
                            "identifier": ident,
                            "iconUrlColor": None,
                            "tradeMethodName": name,
                            "tradeMethodShortName": name,
                            "tradeMethodBgColor": "#00805F",
                        }
                        for ident, name in chosen
                    ],
                    "createTime": None,
                    "advUpdateTime": None,
                    "fiatVo": None,
                    "assetVo": None,
                    "advVisibleRet": None,
                    "assetLogo": None,
                    "assetScale": 2,
                    "fiatScale": 2,
                    "priceScale": 2,
                    "fiatSymbol": FIAT_SYMBOL.get(fiat, fiat),
                    "isTradable": True,
                    "dynamicMaxSingleTransAmount": f"{max(max_fiat, min_fiat * 2):.2f}",
                    "minSingleTransQuantity": f"{min_fiat / price:.2f}",
                    "maxSingleTransQuantity": f"{quantity}",
                    "dynamicMaxSingleTransQuantity": f"{quantity}",
                    "tradableQuantity": f"{quantity}",
                    "commissionRate": "0.00100000",
                    "tradeMethodCommissionRates": [],
                    "launchCountry": None,
                },
                "advertiser": {
                    "userNo": user_no,
                    "realName": None,
                    "nickName": desk
                    or f"{who.choice(['Crypto', 'Pak', 'Fast', 'Trusted', 'Khan', 'Noor'])}"
                    f"{who.choice(['Trader', 'Deals', 'USDT', 'Exchange', 'Hub'])}{who.randint(1, 999)}",
                    "margin": None,
                    "marginUnit": None,
                    "orderCount": None,
                    "monthOrderCount": r.randint(5, 3000),
                    "monthFinishRate": round(r.uniform(0.85, 1.0), 3),
                    "positiveRate": round(r.uniform(0.9, 1.0), 4),
                    "advConfirmTime": None,
                    "email": None,
                    "registrationTime": None,
                    "mobile": None,
                    "userType": "merchant" if merchant else "user",
                    "tagIconUrls": [],
                    "userGrade": r.randint(1, 3),
                    "userIdentity": "",
                    "proMerchant": None,
                    "isBlocked": None,
                    "vipLevel": None,
                    "badges": None,
                    "activeTimeInSecond": r.randint(0, 3600),
                },
            }
        )
    ads.sort(key=lambda a: float(a["adv"]["price"]), reverse=(trade_type == "SELL"))
    return ads


def binance_search(body: dict[str, Any], fault: str | None) -> Response:
    try:
        page = max(1, int(body.get("page", 1)))
        rows = min(20, max(1, int(body.get("rows", 10))))
    except (TypeError, ValueError):
        return jsonr(
            {
                "code": "000002",
                "message": "illegal parameter",
                "messageDetail": None,
                "data": None,
                "success": False,
            },
            status=400,
        )
    trade_type = str(body.get("tradeType", "BUY")).upper()
    ads = binance_ads(str(body.get("fiat", "")).upper(), str(body.get("asset", "USDT")).upper(), trade_type)
    pay_types = body.get("payTypes") or []
    if pay_types:
        ads = [a for a in ads if any(m["identifier"] in pay_types for m in a["adv"]["tradeMethods"])]
    if fault == "empty":
        ads = []
    # empty_page2: the total promises more, but every page after the first comes back empty.
    chunk = [] if fault == "empty_page2" and page > 1 else ads[(page - 1) * rows : page * rows]
    if fault == "schema":
        renamed = [
            {
                "advert": {
                    ("unitPrice" if k == "price" else "payMethods" if k == "tradeMethods" else k): v
                    for k, v in a["adv"].items()
                },
                "merchant": a["advertiser"],
            }
            for a in chunk
        ]
        return jsonr(
            {
                "code": "000000",
                "message": None,
                "messageDetail": None,
                "result": renamed,
                "totalCount": len(ads),
                "success": True,
            }
        )
    if fault == "hostile_records":
        chunk = _hostile_records(
            chunk,
            ("adv", "price"),
            ("advertiser", "monthOrderCount"),
            ("advertiser", "nickName"),
            ("adv", "surplusAmount"),
        )
    return _hostile_spellings(
        jsonr(
            {
                "code": "000000",
                "message": None,
                "messageDetail": None,
                "data": chunk,
                "total": len(ads),
                "success": True,
            }
        ),
        fault,
    )


def binance_web(path: str, query: dict[str, list[str]]) -> Response:
    """The public P2P market page (/en/trade/all-payments/USDT?fiat=PKR), server-rendered."""
    asset = path.rstrip("/").rsplit("/", 1)[-1].upper()
    fiat = (query.get("fiat") or ["PKR"])[0].upper()
    ads = binance_ads(fiat, asset, "BUY")[:10]
    rows = "".join(
        f"<tr><td>{a['advertiser']['nickName']}</td><td>{a['adv']['price']} {fiat}</td>"
        f"<td>{a['adv']['tradableQuantity']} {asset}</td><td>"
        + ", ".join(m["tradeMethodName"] for m in a["adv"]["tradeMethods"])
        + "</td></tr>"
        for a in ads
    )
    return html(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Buy {asset} with {fiat} | P2P</title>'
        f'<meta property="og:title" content="Buy {asset} with {fiat}"></head><body><h1>Buy {asset} with {fiat}</h1>'
        f'<table class="p2p"><tr><th>Advertiser</th><th>Price</th><th>Available</th><th>Payment</th></tr>{rows}'
        "</table></body></html>"
    )


# ---------------------------------------------------------------- OKX P2P


def okx_orders(fiat: str, base: str, side: str) -> list[dict[str, Any]]:
    methods = OKX_METHODS.get(fiat, [])
    n = COUNTS["okx"].get(fiat, 0) if base.upper() in BASE_PRICES else 0
    r = rng("okx", fiat, base, side)
    out = []
    for _ in range(n):
        price = _unit_price(fiat, base.upper(), r)
        amount = round(r.uniform(20, 6000) / BASE_PRICES.get(base.upper(), 1.0), 4)
        done = r.randint(10, 5000)
        who, desk = _merchant("okx", fiat, r, n)
        out.append(
            {
                "alreadyTraded": False,
                "availableAmount": f"{amount}",
                "avgCompletedTime": r.randint(60, 900),
                "avgPaymentTime": r.randint(60, 600),
                "baseCurrency": base.lower(),
                "black": False,
                "cancelledOrderQuantity": r.randint(0, 50),
                "completedOrderQuantity": done,
                "completedRate": f"{r.uniform(0.85, 1.0):.4f}",
                "creatorType": r.choice(["certified", "diamond", "common"]),
                "id": str(250000000000000 + r.getrandbits(40)),
                "isInstitution": 0,
                "merchantId": who.getrandbits(40).to_bytes(5, "big").hex(),
                "mine": False,
                "nickName": desk
                or f"{who.choice(['Pak', 'Desi', 'Lahore', 'Indus', 'Falcon'])}{who.choice(['Crypto', 'OTC', 'Trade'])}{who.randint(1, 99)}",
                "paymentMethods": sorted(r.sample(methods, k=r.randint(1, min(3, len(methods))))),
                "paymentTimeoutMinutes": 15,
                "price": f"{price:.2f}",
                "publicUserId": r.getrandbits(40).to_bytes(5, "big").hex(),
                "quoteCurrency": fiat.lower(),
                "quoteMaxAmountPerOrder": f"{round(amount * price, 2)}",
                "quoteMinAmountPerOrder": f"{r.choice([500, 1000, 5000])}",
                "quoteScale": 2,
                "quoteSymbol": FIAT_SYMBOL.get(fiat, fiat),
                "side": side,
                "userType": "all",
                "whitelistedCountries": ["ALL_COUNTRIES"],
            }
        )
    out.sort(key=lambda o: float(o["price"]), reverse=(side == "buy"))
    return out


def okx_books(query: dict[str, list[str]], fault: str | None) -> Response:
    fiat = (query.get("quoteCurrency") or [""])[0].upper()
    base = (query.get("baseCurrency") or ["usdt"])[0].lower()
    side = (query.get("side") or ["sell"])[0].lower()
    method = (query.get("paymentMethod") or ["all"])[0]
    if side not in ("buy", "sell"):
        return jsonr({"code": 51000, "data": {}, "msg": "Parameter side error"}, status=400)
    orders = [] if fault == "empty" else okx_orders(fiat, base, side)
    if method != "all":
        orders = [o for o in orders if method in o["paymentMethods"]]
    if fault == "hostile_records":
        orders = _hostile_records(
            orders, ("price",), ("completedOrderQuantity",), ("nickName",), ("availableAmount",)
        )
    data = {
        "buy": orders if side == "buy" else [],
        "sell": orders if side == "sell" else [],
        "total": len(orders),
    }
    if fault == "schema":
        renamed = [{("unitPrice" if k == "price" else k): v for k, v in o.items()} for o in orders]
        return jsonr({"code": 0, "data": {"bids" if side == "buy" else "asks": renamed}, "msg": ""})
    return _hostile_spellings(
        jsonr(
            {
                "code": 0,
                "data": data,
                "detailMsg": "",
                "error_code": "0",
                "error_message": "",
                "msg": "",
                "requestId": None,
            }
        ),
        fault,
    )


# ---------------------------------------------------------------- Bybit P2P


def bybit_items(fiat: str, token: str, side: int) -> list[dict[str, Any]]:
    payments = BYBIT_BY_FIAT.get(fiat, [])
    n = COUNTS["bybit"].get(fiat, 0) if token in BASE_PRICES else 0
    r = rng("bybit", fiat, token, side)
    out = []
    for _ in range(n):
        price = _unit_price(fiat, token, r)
        qty = round(r.uniform(20, 6000) / BASE_PRICES.get(token, 1.0), 4)
        orders = r.randint(10, 4000)
        who, desk = _merchant("bybit", fiat, r, n)
        user_id = str(who.randint(10_000_000, 99_999_999))
        out.append(
            {
                "id": str(1_800_000_000_000_000_000 + r.getrandbits(56)),
                "accountId": user_id,
                "userId": user_id,
                "nickName": desk
                or f"{who.choice(['Karachi', 'Quick', 'Safe', 'Royal'])}{who.choice(['P2P', 'Trader', 'USDT'])}{who.randint(1, 999)}",
                "tokenId": token,
                "currencyId": fiat,
                "side": side,
                "priceType": 0,
                "price": f"{price:.2f}",
                "premium": "",
                "lastQuantity": f"{qty}",
                "quantity": f"{qty}",
                "frozenQuantity": "0",
                "executedQuantity": "0",
                "minAmount": f"{r.choice([1000, 2000, 5000])}",
                "maxAmount": f"{round(qty * price, 2)}",
                "remark": "Name must match. No third-party payments.",
                "status": 10,
                "createDate": "1764000000000",
                "payments": sorted(r.sample(payments, k=r.randint(1, min(3, len(payments))))),
                "orderNum": orders,
                "finishNum": int(orders * r.uniform(0.85, 1.0)),
                "recentOrderNum": r.randint(0, 300),
                "recentExecuteRate": r.randint(80, 100),
                "isOnline": True,
                "lastLogoutTime": "1764000000000",
                "blocked": "N",
                "makerContact": False,
                "authTag": [r.choice(["BA", "VA", "GA"])],
                "userType": r.choice(["ORG", "PERSONAL"]),
                "itemType": "ORIGIN",
                "paymentPeriod": 15,
                "symbolInfo": {
                    "token": {"tokenId": token, "scale": 4},
                    "currency": {"currencyId": fiat, "scale": 2},
                },
                "version": 1,
                "authStatus": 2,
                "recommend": False,
                "recommendTag": "",
            }
        )
    out.sort(key=lambda o: float(o["price"]), reverse=(side == 0))
    return out


def bybit_online(body: dict[str, Any], fault: str | None) -> Response:
    try:
        page = max(1, int(body.get("page", 1)))
        size = min(100, max(1, int(body.get("size", 10))))
        side = int(body.get("side", 1))
    except (TypeError, ValueError):
        return jsonr({"ret_code": 10001, "ret_msg": "params error", "result": None})
    items = bybit_items(
        str(body.get("currencyId", "")).upper(), str(body.get("tokenId", "USDT")).upper(), side
    )
    wanted = body.get("payment") or []
    if wanted:
        items = [i for i in items if set(i["payments"]) & set(map(str, wanted))]
    if fault == "empty":
        items = []
    chunk = [] if fault == "empty_page2" and page > 1 else items[(page - 1) * size : page * size]
    if fault == "schema":
        renamed = [{("unitPrice" if k == "price" else k): v for k, v in i.items()} for i in chunk]
        return jsonr({"retCode": 0, "retMsg": "OK", "result": {"total": len(items), "list": renamed}})
    if fault == "hostile_records":
        chunk = _hostile_records(chunk, ("price",), ("finishNum",), ("nickName",), ("lastQuantity",))
    return _hostile_spellings(
        jsonr(
            {
                "ret_code": 0,
                "ret_msg": "SUCCESS",
                "result": {"count": len(items), "items": chunk},
                "ext_code": "",
                "ext_info": {},
                "time_now": f"{time.time():.6f}",
            }
        ),
        fault,
    )


def bybit_payment_list(fault: str | None) -> Response:
    vo = [
        {"paymentType": pid, "paymentName": name, "paymentConfig": {"paymentType": pid}}
        for pid, name in BYBIT_PAYMENTS.items()
    ]
    return jsonr(
        {
            "ret_code": 0,
            "ret_msg": "SUCCESS",
            "result": {"paymentConfigVo": [] if fault == "empty" else vo},
            "ext_code": "",
            "ext_info": {},
            "time_now": f"{time.time():.6f}",
        }
    )


# ---------------------------------------------------------------- market lists

MARKET_PAIRS = {
    "api.indus-spot.test": ["BTC/PKR", "ETH/PKR", "USDT/PKR", "SOL/PKR", "BTC/USDT", "ETH/USDT"],
    "api.globex.test": ["BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/EUR", "ETH/USD", "XRP/USDT"],
}
_QUOTE_USD = {"PKR": 1 / 286.0, "USDT": 1.0, "EUR": 1.087, "USD": 1.0}


def _market_price(pair: str) -> float:
    base, quote = pair.split("/")
    return round(BASE_PRICES.get(base, 1.0) / _QUOTE_USD.get(quote, 1.0), 2)


def markets(host: str, path: str, fault: str | None) -> Response | None:
    pairs = [] if fault == "empty" else MARKET_PAIRS[host]
    if path == "/api/v3/exchangeInfo":
        symbols = [
            {
                "symbol": p.replace("/", ""),
                "status": "TRADING",
                "baseAsset": p.split("/")[0],
                "baseAssetPrecision": 8,
                "quoteAsset": p.split("/")[1],
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"],
                "isSpotTradingAllowed": True,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": "0.01",
                        "maxPrice": "100000000.00",
                        "tickSize": "0.01",
                    }
                ],
            }
            for p in pairs
        ]
        if fault == "schema":
            return jsonr(
                {
                    "instruments": [
                        {
                            "name": s["symbol"],
                            "base_currency": s["baseAsset"],
                            "quote_currency": s["quoteAsset"],
                        }
                        for s in symbols
                    ]
                }
            )
        return jsonr(
            {
                "timezone": "UTC",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": symbols,
            }
        )
    if path == "/api/v3/ticker/price":
        return jsonr([{"symbol": p.replace("/", ""), "price": f"{_market_price(p):.2f}"} for p in pairs])
    if path == "/api/v3/ticker/24hr":
        r = rng("24hr", host)
        return jsonr(
            [
                {
                    "symbol": p.replace("/", ""),
                    "lastPrice": f"{_market_price(p):.2f}",
                    "priceChangePercent": f"{r.uniform(-5, 5):.2f}",
                    "volume": f"{r.uniform(1, 900):.4f}",
                }
                for p in pairs
            ]
        )
    if path in ("/markets.json", "/ccxt/markets"):
        return jsonr(
            {
                p: {
                    "id": p.replace("/", ""),
                    "symbol": p,
                    "base": p.split("/")[0],
                    "quote": p.split("/")[1],
                    "active": True,
                    "type": "spot",
                    "spot": True,
                    "info": {"symbol": p.replace("/", ""), "status": "TRADING"},
                }
                for p in pairs
            }
        )
    if path in ("/tickers", "/tickers.json"):
        return jsonr(
            [{"symbol": p, "last": _market_price(p), "timestamp": int(time.time() * 1000)} for p in pairs]
        )
    return None


# ---------------------------------------------------------------- dispatch

API_HOSTS = ("p2p.binance.test", "www.okx.test", "api2.bybit.test", *MARKET_PAIRS)


def _json_body(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def handle(
    host: str, method: str, path: str, query: str, headers: Any, body: bytes, state: FaultState
) -> Response:
    response = _handle(host, method, path, query, headers, body, state)
    if "fault=slow" in query or path.startswith("/__fault/slow"):
        response.delay = state.slow_seconds
    return response


def with_faults(
    host: str, path: str, query: str, headers: Any, state: FaultState
) -> tuple[str, dict[str, list[str]], str | None, Response | None]:
    """The path without its fault marker, the parsed query, the fault asked for, and the response that
    fault sends instead of the service's (None: serve, with the fault; an unknown fault is a 400)."""
    q = parse_qs(query)
    path, fault, session = parse_fault(path, q, headers)
    if fault is not None and fault not in FAULTS:
        return path, q, fault, jsonr({"error": f"unknown fault {fault!r}", "known": list(FAULTS)}, status=400)
    return path, q, fault, fault_response(fault, host, session, state) if fault else None


def _handle(
    host: str, method: str, path: str, query: str, headers: Any, body: bytes, state: FaultState
) -> Response:
    path, q, fault, replaced = with_faults(host, path, query, headers, state)
    if replaced is not None:
        return replaced
    if host == "p2p.binance.test" and path == "/bapi/c2c/v2/friendly/c2c/adv/search":
        if method != "POST":
            return jsonr({"code": "000001", "message": "method not allowed", "success": False}, status=405)
        data = _json_body(body)
        if data is None:
            return jsonr({"code": "000002", "message": "illegal parameter", "success": False}, status=400)
        return binance_search(data, fault)
    if host == "www.okx.test" and path in (
        "/v3/c2c/tradingOrders/books",
        "/v3/c2c/tradingOrders/booksPrelogin",
    ):
        return okx_books(q, fault)
    if host == "api2.bybit.test" and path in ("/fiat/otc/item/online", "/fiat/otc/item/recommend/online"):
        data = _json_body(body) if method == "POST" else {k: v[0] for k, v in q.items()}
        if data is None:
            return jsonr({"ret_code": 10001, "ret_msg": "params error", "result": None})
        return bybit_online(data, fault)
    if host == "api2.bybit.test" and path == "/fiat/otc/configuration/queryAllPaymentList":
        return bybit_payment_list(fault)
    if host == "p2p.binance.test" and path.startswith("/en/trade/"):
        return binance_web(path, q)
    if host in MARKET_PAIRS:
        response = markets(host, path, fault)
        if response is not None:
            return response
    if path in ("/", ""):
        return html(
            f"<!DOCTYPE html><html><head><title>{host} API</title></head><body><h1>{host}</h1>"
            "<p>API endpoint. See the scanner.world package docstring.</p></body></html>"
        )
    return not_found(host, path)
