"""OKX P2P: ``GET {base}/v3/c2c/tradingOrders/books``, one request per side (OKX does not page).

``quoteCurrency`` and ``baseCurrency`` are lower-case; the answer is ``data.buy`` / ``data.sell``.
Payment methods are OKX's own lower-case names (``bank``, ``easypaisa``...).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from scanner.pollers.base import Ad, Fields, PollContext

KIND = "p2p"
PATH = "/v3/c2c/tradingOrders/books"
SIDES = ("buy", "sell")


def poll(ctx: PollContext) -> Iterator[Ad]:
    for side in SIDES:
        params = {
            "quoteCurrency": ctx.fiat.lower(), "baseCurrency": ctx.asset.lower(), "side": side,
            "paymentMethod": "all", "userType": "all", "showTrade": "false", "showFollow": "false",
            "showAlreadyTraded": "false", "isAbleFilter": "false", "receivingAds": "false",
            "t": str(int(time.time() * 1000)),
        }
        envelope = ctx.envelope(ctx.get(PATH, params))
        envelope.expect("code", 0)
        data = envelope.obj("data")
        yield from ctx.records(data.items(side), lambda order, s=side: _ad(ctx, order, s))


def _ad(ctx: PollContext, order: Fields, side: str) -> Ad:
    order.expect("quoteCurrency", ctx.fiat.lower())
    order.expect("baseCurrency", ctx.asset.lower())
    order.expect("side", side)
    completed = order.int("completedOrderQuantity", optional=True)
    return ctx.ad(
        ad_id=order.req_str("id"),
        side="buy" if side == "buy" else "sell",
        price=order.req_num("price"),
        min_amount=order.num("quoteMinAmountPerOrder"),
        max_amount=order.num("quoteMaxAmountPerOrder"),
        available=order.num("availableAmount"),
        payment_ids=[str(m) for m in order.list("paymentMethods")],
        merchant_id=order.req_str("merchantId"),
        merchant_name=order.str("nickName", optional=True) or "",
        completion_rate=order.num("completedRate", optional=True),
        order_count=completed,
    )
