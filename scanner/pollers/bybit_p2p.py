"""Bybit P2P: ``POST {base}/fiat/otc/item/online`` for side "0" (buy ads) and "1" (sell ads), paged.

Ads carry numeric payment ids; their names come from ``POST {base}/fiat/otc/configuration/
queryAllPaymentList`` (``result.paymentConfigVo[].paymentType -> paymentName``), fetched once per
poll. An id missing from that list fails the poll rather than hiding a rail.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.pollers.base import Ad, Fields, PollContext

KIND = "p2p"
ITEMS_PATH = "/fiat/otc/item/online"
PAYMENTS_PATH = "/fiat/otc/configuration/queryAllPaymentList"
SIZE = 20
SIDES = {"0": "buy", "1": "sell"}


def poll(ctx: PollContext) -> Iterator[Ad]:
    names = _payment_names(ctx)
    for code in SIDES:
        items = ctx.pages(lambda page, c=code: _page(ctx, c, page), f"side {code}")
        yield from ctx.records(items, lambda item, c=code: _ad(ctx, item, c, names))


def _result(ctx: PollContext, path: str, body: dict[str, object]) -> Fields:
    envelope = ctx.envelope(ctx.post(path, body))
    envelope.expect("ret_code", 0)
    return envelope.obj("result")


def _payment_names(ctx: PollContext) -> dict[str, str]:
    result = _result(ctx, PAYMENTS_PATH, {})
    return {entry.req_str("paymentType"): entry.req_str("paymentName") for entry in result.items("paymentConfigVo")}


def _page(ctx: PollContext, side: str, page: int) -> tuple[list[Fields], int]:
    body: dict[str, object] = {
        "userId": "", "tokenId": ctx.asset, "currencyId": ctx.fiat, "payment": [], "side": side,
        "size": str(SIZE), "page": str(page), "amount": "", "authMaker": False, "canTrade": False,
    }
    result = _result(ctx, ITEMS_PATH, body)
    return list(result.items("items")), result.int("count") or 0


def _ad(ctx: PollContext, item: Fields, side_code: str, names: dict[str, str]) -> Ad:
    item.expect("currencyId", ctx.fiat)
    item.expect("tokenId", ctx.asset)
    item.expect("side", int(side_code), side_code)
    payment_names = []
    for payment_id in item.list("payments"):
        if str(payment_id) not in names:
            raise item.fail(f"payment id {payment_id!r} is not in {PAYMENTS_PATH} ({len(names)} ids listed)")
        payment_names.append(names[str(payment_id)])
    rate = item.num("recentExecuteRate", optional=True)
    return ctx.ad(
        ad_id=item.req_str("id"),
        side="buy" if side_code == "0" else "sell",
        price=item.req_num("price"),
        min_amount=item.num("minAmount"),
        max_amount=item.num("maxAmount"),
        available=item.num("lastQuantity"),
        payment_ids=payment_names,
        merchant_id=item.req_str("userId"),
        merchant_name=item.str("nickName", optional=True) or "",
        completion_rate=None if rate is None else rate / 100.0,  # Bybit reports 0..100
        order_count=item.int("finishNum", optional=True),
    )
