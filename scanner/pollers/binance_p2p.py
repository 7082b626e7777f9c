"""Binance P2P: ``POST {base}/bapi/c2c/v2/friendly/c2c/adv/search``, both trade types, paged by ``rows``.

The request's ``tradeType`` is the user's side; each ad's ``adv.tradeType`` is the advertiser's (a
user who BUYs sees SELL ads), and that is the side we store. Payment methods are read from
``tradeMethods[].identifier``: ``tradeMethodName`` is localised by request language.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.pollers.base import Ad, Fields, PollContext

KIND = "p2p"
PATH = "/bapi/c2c/v2/friendly/c2c/adv/search"
ROWS = 20  # the largest page Binance serves
TRADE_TYPES = ("BUY", "SELL")


def poll(ctx: PollContext) -> Iterator[Ad]:
    for trade_type in TRADE_TYPES:
        items = ctx.pages(lambda page, t=trade_type: _page(ctx, t, page), trade_type)
        yield from ctx.records(items, lambda item: _ad(ctx, item))


def _page(ctx: PollContext, trade_type: str, page: int) -> tuple[list[Fields], int]:
    body: dict[str, Any] = {
        "page": page, "rows": ROWS, "tradeType": trade_type, "asset": ctx.asset, "fiat": ctx.fiat,
        "payTypes": [], "countries": [], "publisherType": None, "proMerchantAds": False,
        "shieldMerchantAds": False, "filterType": "all", "transAmount": "",
    }
    envelope = ctx.envelope(ctx.post(PATH, body))
    envelope.expect("code", "000000")
    envelope.expect("success", True)
    total = envelope.int("total")
    return list(envelope.items("data")), total or 0


def _ad(ctx: PollContext, item: Fields) -> Ad:
    adv = item.obj("adv")
    advertiser = item.obj("advertiser")
    adv.expect("fiatUnit", ctx.fiat)
    adv.expect("asset", ctx.asset)
    side = adv.expect("tradeType", "BUY", "SELL")
    return ctx.ad(
        ad_id=adv.req_str("advNo"),
        side="buy" if side == "BUY" else "sell",
        price=adv.req_num("price"),
        min_amount=adv.num("minSingleTransAmount"),
        max_amount=adv.num("maxSingleTransAmount"),
        available=adv.num("surplusAmount", optional=True) or adv.num("tradableQuantity", optional=True),
        payment_ids=[method.req_str("identifier") for method in adv.items("tradeMethods")],
        merchant_id=advertiser.req_str("userNo"),
        merchant_name=advertiser.str("nickName", optional=True) or "",
        completion_rate=advertiser.num("monthFinishRate", optional=True),
        order_count=advertiser.int("monthOrderCount", optional=True),
    )
