"""CoinGecko: exchanges that list a market quoted in a watched fiat (PKR) are candidates.

``base_url`` is the API root (``https://api.coingecko.com/api/v3``). ``GET /exchanges?per_page=250
&page=P`` lists exchanges (``id``, ``name``, ``url``, ``country``, ...) until an empty page; for each,
``GET /exchanges/{id}/tickers?page=P`` lists up to 100 tickers (``base``, ``target``, ``market``,
``trade_url``). A ticker whose ``target`` is a watched fiat makes the exchange's ``url`` a lead.
Exchanges based in Pakistan are read first, then by ``trust_score_rank``; the request budget decides
how far down the list a run gets. An exchange without a website gives nothing to crawl.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.discovery.base import Fields, Lead, SourceContext
from scanner.pollers.session import Fetched

PER_PAGE = 250
MAX_EXCHANGE_PAGES = 20
MAX_TICKER_PAGES = 5  # past 500 tickers an exchange is a global one; its fiat pairs come first anyway
TICKERS_PER_PAGE = 100


def discover(ctx: SourceContext) -> Iterator[Lead]:
    exchanges = _exchanges(ctx)
    exchanges.sort(
        key=lambda e: (
            e.str("country", optional=True) != "Pakistan",
            e.num("trust_score_rank", optional=True) or 10**9,
        )
    )
    fiats = set(ctx.target.fiats)
    for exchange in exchanges:
        url = exchange.req_str("url").strip()
        if not url:
            continue
        exchange_id = exchange.req_str("id")
        for page in range(1, MAX_TICKER_PAGES + 1):
            if not ctx.budget_left():
                return
            fetched = ctx.get(f"/exchanges/{exchange_id}/tickers", params={"page": page})
            tickers = list(Fields(fetched.json(), "response", fetched).items("tickers"))
            pairs = [f"{t.req_str('base')}/{t.req_str('target')}" for t in tickers]
            watched = sorted({p for p in pairs if p.split("/")[1].upper() in fiats})
            if watched:
                name = exchange.str("name", optional=True) or exchange_id
                yield ctx.lead(url, fetched, f"CoinGecko lists {name} with {', '.join(watched[:5])} markets")
                break
            if len(tickers) < TICKERS_PER_PAGE:
                break


def _exchanges(ctx: SourceContext) -> list[Fields]:
    """Every exchange of the list; an empty first page is a broken answer (CoinGecko lists hundreds)."""
    out: list[Fields] = []
    for page in range(1, MAX_EXCHANGE_PAGES + 1):
        if not ctx.budget_left():
            break
        fetched = ctx.get("/exchanges", params={"per_page": PER_PAGE, "page": page})
        items = _list(fetched)
        if not items:
            if page == 1:
                raise fetched.fail("exchange list is empty (page 1 has no exchanges)")
            break
        out.extend(Fields(item, f"response[{i}]", fetched) for i, item in enumerate(items))
        for exchange in out[-len(items) :]:  # the fields a lead needs, checked before any is made
            exchange.req_str("id")
            exchange.req_str("url")
        if len(items) < PER_PAGE:
            break
    return out


def _list(fetched: Fetched) -> list[object]:
    data = fetched.json()
    if not isinstance(data, list):
        keys = ", ".join(sorted(data)[:10]) if isinstance(data, dict) else type(data).__name__
        raise fetched.fail(f"expected a list of exchanges, got {keys}")
    return data
