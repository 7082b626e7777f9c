"""Spot market lists -> markets quoted in the polled fiat (BTC/PKR, USDT/PKR ...).

``base_url`` is the full URL of one list; the shape is recognised from the body:
- Binance ``exchangeInfo``: ``{"symbols": [{"symbol", "status", "baseAsset", "quoteAsset"}, ...]}``
  (only ``status == "TRADING"`` counts);
- a ccxt market dictionary ``{"BTC/PKR": {"symbol", "base", "quote", ...}}`` or a list of such dicts;
- a ticker list ``[{"symbol": "BTCPKR" | "BTC/PKR", "price" | "last" ...}]``, where a concatenated
  symbol is split on the fiat suffix.
Anything else fails the poll, and so does a list with no markets at all: an exchange does not
delist everything at once, an empty answer is a broken one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.pollers.base import Fields, Market, PollContext, SchemaError
from scanner.pollers.session import Fetched

KIND = "markets"


def poll(ctx: PollContext) -> Iterator[Market]:
    fetched = ctx.get("")
    data = fetched.json()
    listed = list(_pairs(ctx, data, fetched))
    if not listed and not ctx.rejected:
        raise fetched.fail("market list is empty (no symbols at all)")
    seen: set[str] = set()
    for base, quote in filter(None, listed):
        if quote.upper() == ctx.fiat and f"{base}/{quote}" not in seen:
            seen.add(f"{base}/{quote}")
            yield ctx.market(base, quote)


def _pairs(ctx: PollContext, data: Any, fetched: Fetched) -> Iterator[tuple[str, str] | None]:
    """(base, quote) of each listed market (None: listed but not trading); a symbol that cannot be
    read is left out (`PollContext.records`)."""
    if isinstance(data, dict) and "symbols" in data:
        yield from ctx.records(Fields(data, "response", fetched).items("symbols"), _exchange_info)
        return
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        items = (Fields(value, f"response[{key!r}]", fetched) for key, value in data.items())
        yield from ctx.records(items, _ccxt)
        return
    if isinstance(data, list):
        items = (Fields(raw, f"response[{i}]", fetched) for i, raw in enumerate(data))
        yield from ctx.records(items, lambda item: _ticker(item, ctx.fiat))
        return
    keys = ", ".join(sorted(data)[:10]) if isinstance(data, dict) else type(data).__name__
    raise SchemaError(
        f"not a known market list (exchangeInfo symbols, ccxt markets or tickers); got {keys or 'nothing'}",
        method=fetched.method, url=fetched.url,
    )


def _exchange_info(item: Fields) -> tuple[str, str] | None:
    if item.req_str("status") != "TRADING":
        return None
    return item.req_str("baseAsset").upper(), item.req_str("quoteAsset").upper()


def _ccxt(item: Fields) -> tuple[str, str]:
    return item.req_str("base").upper(), item.req_str("quote").upper()


def _ticker(item: Fields, fiat: str) -> tuple[str, str]:
    if isinstance(item.data, dict) and "base" in item.data and "quote" in item.data:
        return _ccxt(item)
    return _split_symbol(item.req_str("symbol").upper(), fiat)


def _split_symbol(symbol: str, fiat: str) -> tuple[str, str]:
    """BTC/PKR, BTC-PKR, BTC_PKR or BTCPKR -> (BTC, PKR); a concatenated symbol in another quote
    cannot be split reliably and comes back as (symbol, "")."""
    for separator in ("/", "-", "_"):
        if separator in symbol:
            base, _, quote = symbol.partition(separator)
            return base, quote
    if symbol.endswith(fiat) and len(symbol) > len(fiat):
        return symbol[: -len(fiat)], fiat
    return symbol, ""
