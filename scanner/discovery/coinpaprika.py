"""CoinPaprika: exchanges that list a watched fiat (PKR) are candidates.

``base_url`` is the API root (``https://api.coinpaprika.com/v1``). One ``GET /exchanges`` lists every
exchange with ``id``, ``name``, ``active``, ``links`` (``{"website": [...], ...}``) and ``fiats``
(``[{"name", "symbol"}]``, the fiat currencies it trades). An exchange whose ``fiats`` holds a watched
symbol leads to its first website. An empty list is a broken answer (CoinPaprika lists hundreds).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.discovery.base import Fields, Lead, SourceContext


def discover(ctx: SourceContext) -> Iterator[Lead]:
    if not ctx.budget_left():
        return
    fetched = ctx.get("/exchanges")
    data = fetched.json()
    if not isinstance(data, list):
        raise fetched.fail(f"expected a list of exchanges, got {type(data).__name__}")
    if not data:
        raise fetched.fail("exchange list is empty")
    exchanges = [Fields(item, f"response[{i}]", fetched) for i, item in enumerate(data)]
    for exchange in exchanges:  # every field first: a renamed one stores nothing
        exchange.req_str("id"), exchange.obj("links"), exchange.list("fiats")
    fiats = set(ctx.target.fiats)
    for exchange in exchanges:
        symbols = {fiat.req_str("symbol").upper() for fiat in exchange.items("fiats")}
        watched = sorted(symbols & fiats)
        websites = [
            w for w in exchange.obj("links").list("website", optional=True) if isinstance(w, str) and w
        ]
        if watched and websites:
            name = exchange.str("name", optional=True) or exchange.req_str("id")
            state = "" if exchange.data.get("active", True) else " (marked inactive)"
            reason = f"CoinPaprika lists {name}{state} with fiat {', '.join(watched)}"
            yield ctx.lead(websites[0], fetched, reason)
