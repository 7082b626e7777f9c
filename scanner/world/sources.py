"""Simulated discovery sources (scanner.discovery), in the shapes of the real services.

    GET http://api.coingecko.test/api/v3/exchanges?per_page=N&page=P        CoinGecko /exchanges
    GET http://api.coingecko.test/api/v3/exchanges/{id}/tickers?page=P      100 tickers a page
    GET http://api.coinpaprika.test/v1/exchanges                             CoinPaprika (fiats per exchange)
    GET http://crt.sh.test/?q=%25usdt%25&output=json                        crt.sh JSON rows
    GET http://itunes.apple.test/search?term=T&country=pk&entity=software    iTunes Search API
    GET http://t.me/s/<channel>  (and /<channel> for sources.yaml's)        Telegram public preview
    GET http://warnings.finreg.test/alerts.csv  and  /alerts                 a regulator's warning list
    GET http://play.google.com/store/apps/details?id=P&hl=en|ur&gl=PK        Google Play detail page

The data is ``sources.yaml``. Faults as on the exchange APIs (``/__fault/NAME[@SESSION]/`` or
``?fault=``, see `scanner.world.apis`): 429_once, 429, 500, html200, geo403, malformed, plus
``schema`` (a renamed field: CoinGecko ``target`` -> ``quote``, CoinPaprika ``fiats`` -> ``fiat_currencies``, crt.sh ``name_value`` -> ``names``,
iTunes ``results`` -> ``items``, the warning list's "Website" column -> "Link", t.me's message markup,
Google Play's JSON-LD ``author`` -> ``publisher``) and ``empty`` (an empty list or page; a Play page
without its JSON-LD block).
"""

from __future__ import annotations

import fnmatch
import io
import re
from functools import lru_cache
from html import escape
from importlib import resources
from typing import Any

import yaml

from scanner import csvsafe
from scanner.world.apis import FaultState, parse_fault, with_faults
from scanner.world.catalogue import BASE_PRICES, rng
from scanner.world.response import Response, html, jsonr, not_found

COINGECKO, CRTSH, ITUNES, TELEGRAM, WARNINGS = (
    "api.coingecko.test", "crt.sh.test", "itunes.apple.test", "t.me", "warnings.finreg.test",
)  # fmt: skip
COINPAPRIKA = "api.coinpaprika.test"
PLAY = "play.google.com"
HOSTS = (COINGECKO, COINPAPRIKA, CRTSH, ITUNES, WARNINGS)  # t.me is shared with the catalogue's channel pages
TICKERS_PER_PAGE = 100


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    return yaml.safe_load(
        resources.files("scanner.world").joinpath("sources.yaml").read_text(encoding="utf-8")
    )


def serves(host: str, path: str) -> bool:
    """Whether this module answers the request (t.me is shared with the catalogue's channel pages)."""
    if host in HOSTS:
        return True
    if host == PLAY:  # detail pages (with faults); the store's index is scanner.world.render's
        return parse_fault(path, {}, {})[0] == "/store/apps/details"
    return host == TELEGRAM and telegram_channel(parse_fault(path, {}, {})[0]) is not None


def telegram_channel(path: str) -> str | None:
    """The channel a t.me path previews: a sources.yaml channel (``/s/name`` or ``/name``), or a
    catalogue platform's channel (``/s/name`` only; ``/name`` is its page in scanner.world.render)."""
    preview = path.startswith("/s/")
    name = path.strip("/").removeprefix("s/").split("/")[0]
    return name if name in _channels() and (preview or _channels()[name].get("own")) else None


@lru_cache(maxsize=1)
def _channels() -> dict[str, dict[str, Any]]:
    """Every channel with a preview: sources.yaml's, then the catalogue's (its text as two messages)."""
    from scanner.world.render import hosted_index

    channels: dict[str, dict[str, Any]] = {}
    for (host, name), page in hosted_index().items():
        if host == TELEGRAM:
            messages = [
                {"id": i + 1, "at": f"2026-12-0{i + 1}T09:00:00+00:00", "text": text, "links": [page["link"]] if i else []}
                for i, text in enumerate(page["body"])
            ]  # fmt: skip
            subscribers = page.get("subtitle", "").replace(" subscribers", "")
            channels[name] = {
                "name": name,
                "title": page["title"],
                "subscribers": subscribers,
                "messages": messages,
            }
    for channel in data()["telegram"]["channels"]:
        channels[channel["name"]] = {**channel, "own": True}
    return channels


def handle(host: str, path: str, query: str, headers: Any, state: FaultState) -> Response:
    path, q, fault, replaced = with_faults(host, path, query, headers, state)
    if replaced is not None:
        return replaced
    arg = {k: v[0] for k, v in q.items()}
    if host == COINGECKO:
        return coingecko(path, arg, fault)
    if host == COINPAPRIKA and path == "/v1/exchanges":
        return coinpaprika(fault)
    if host == CRTSH and path in ("/", ""):
        return crtsh(arg, fault)
    if host == ITUNES and path == "/search":
        return itunes(arg, fault)
    if host == ITUNES and path == "/lookup":
        return itunes_lookup(arg, fault)
    if host == TELEGRAM and (channel := telegram_channel(path)):
        return telegram(channel, fault)
    if host == WARNINGS and path in ("/alerts.csv", "/alerts"):
        return warning_list(path.endswith(".csv"), fault)
    if host == PLAY:
        from scanner.world.render import play_page

        page = play_page(query, fault)
        return html(page) if page is not None else not_found(host, path)
    return not_found(host, path)


# ---------------------------------------------------------------- CoinGecko


def _exchanges() -> list[dict[str, Any]]:
    spec = data()["coingecko"]
    listed = list(spec["exchanges"])
    for i in range(spec["filler_exchanges"]):
        listed.append({"id": f"global-{i}", "name": f"Global Exchange {i}", "url": f"http://global-{i}.example/",
                       "country": "United States", "year": 2015 + i % 9, "trust": 1 + i % 10,
                       "tickers": ["BTC/USDT", "ETH/USD"]})  # fmt: skip
    return listed


def _exchange_json(e: dict[str, Any], rank: int) -> dict[str, Any]:
    return {
        "id": e["id"], "name": e["name"], "year_established": e.get("year"), "country": e.get("country"),
        "description": "", "url": e["url"], "image": f"https://assets.coingecko.test/markets/images/{rank}/small/{e['id']}.png",
        "has_trading_incentive": False, "trust_score": e.get("trust"), "trust_score_rank": rank,
        "trade_volume_24h_btc": round(rng("cg", e["id"]).uniform(1, 50000), 4),
    }  # fmt: skip


def _ticker_json(exchange: dict[str, Any], pair: str) -> dict[str, Any]:
    base, target = pair.split("/")
    r = rng("cg-ticker", exchange["id"], pair)
    last = round(BASE_PRICES.get(base, 1.0) * (281.2 if target == "PKR" else 1.0) * r.uniform(0.99, 1.01), 4)
    return {
        "base": base, "target": target,
        "market": {"name": exchange["name"], "identifier": exchange["id"], "has_trading_incentive": False},
        "last": last, "volume": round(r.uniform(1, 5000), 4),
        "converted_last": {"btc": 1.0, "eth": 30.0, "usd": BASE_PRICES.get(base, 1.0)},
        "trust_score": "green", "bid_ask_spread_percentage": 0.01,
        "timestamp": "2026-12-06T10:00:00+00:00", "last_traded_at": "2026-12-06T10:00:00+00:00",
        "last_fetch_at": "2026-12-06T10:00:00+00:00", "is_anomaly": False, "is_stale": False,
        "trade_url": f"{exchange['url']}trade/{base}_{target}" if exchange["url"] else None,
        "coin_id": base.lower(), "target_coin_id": None if target in ("PKR", "INR", "SAR", "EUR", "USD") else target.lower(),
    }  # fmt: skip


def coingecko(path: str, q: dict[str, str], fault: str | None) -> Response:
    page = max(1, int(q.get("page", "1") or 1))
    exchanges = _exchanges()
    if path == "/api/v3/exchanges":
        per_page = min(250, max(1, int(q.get("per_page", "100") or 100)))
        start = (page - 1) * per_page
        chunk = [] if fault == "empty" else exchanges[start : start + per_page]
        return jsonr([_exchange_json(e, start + i + 1) for i, e in enumerate(chunk)])
    parts = path.strip("/").split("/")
    if len(parts) == 5 and parts[:3] == ["api", "v3", "exchanges"] and parts[4] == "tickers":
        exchange = next((e for e in exchanges if e["id"] == parts[3]), None)
        if exchange is None:
            return jsonr({"error": "exchange not found"}, status=404)
        pairs = list(exchange["tickers"]) + [f"COIN{i}/USDT" for i in range(exchange.get("filler", 0))]
        chunk = pairs[(page - 1) * TICKERS_PER_PAGE : page * TICKERS_PER_PAGE]
        tickers = [_ticker_json(exchange, p) for p in chunk]
        if fault == "schema":
            for t in tickers:
                t["quote"] = t.pop("target")
        return jsonr({"name": exchange["name"], "tickers": tickers})
    return not_found(COINGECKO, path)


# ---------------------------------------------------------------- CoinPaprika

FIAT_NAMES = {
    "PKR": "Pakistani Rupee",
    "INR": "Indian Rupee",
    "SAR": "Saudi Riyal",
    "EUR": "Euro",
    "USD": "US Dollars",
}


def coinpaprika(fault: str | None) -> Response:
    """The CoinGecko exchanges of sources.yaml as CoinPaprika lists them (fiats from their tickers)."""
    rows = []
    for rank, e in enumerate([] if fault == "empty" else _exchanges(), start=1):
        quotes = sorted({pair.split("/")[1] for pair in e["tickers"]} & set(FIAT_NAMES))
        row = {
            "id": e["id"], "name": e["name"], "active": True, "website_status": True, "api_status": True,
            "description": "", "message": "", "links": {"website": [e["url"]] if e["url"] else []},
            "markets_data_fetched": True, "adjusted_rank": rank, "reported_rank": rank,
            "currencies": len(e["tickers"]), "markets": len(e["tickers"]),
            "fiats": [{"name": FIAT_NAMES[q], "symbol": q} for q in quotes],
            "last_updated": "2026-12-06T10:00:00Z",
        }  # fmt: skip
        if fault == "schema":
            row["fiat_currencies"] = row.pop("fiats")
        rows.append(row)
    return jsonr(rows)


# ---------------------------------------------------------------- crt.sh


def crtsh(q: dict[str, str], fault: str | None) -> Response:
    if q.get("output") != "json":
        return html("<html><body><h1>crt.sh</h1><p>Certificate Search</p></body></html>")
    pattern = (q.get("q") or q.get("identity") or "").lower().replace("%", "*")
    rows = []
    for i, cert in enumerate(data()["crtsh"]["certificates"]):
        names = [n for entry in cert["names"] for n in entry.split("\n")]
        if fault != "empty" and any(fnmatch.fnmatchcase(n.lower(), pattern) for n in names):
            row = {
                "issuer_ca_id": 295810, "issuer_name": "C=US, O=Let's Encrypt, CN=R11",
                "common_name": names[0], "name_value": "\n".join(names), "id": 15000000000 + i,
                "entry_timestamp": cert["not_before"] + ".123", "not_before": cert["not_before"],
                "not_after": "2027-02-26T23:59:59", "serial_number": f"{0x04a1b2c3d4 + i:x}", "result_count": len(names),
            }  # fmt: skip
            if fault == "schema":
                row["names"] = row.pop("name_value")
            rows.append(row)
    return jsonr(rows)


# ---------------------------------------------------------------- iTunes Search API


def itunes_lookup(q: dict[str, str], fault: str | None) -> Response:
    """``/lookup?id=N,M``: sources.yaml's apps and the catalogue's App Store apps, in the search's shape."""
    from scanner.world.render import hosted_index

    wanted = {int(i) for i in (q.get("id") or "").split(",") if i.strip().isdigit()}
    apps = {a["id"]: a for a in data()["itunes"]["apps"]}
    for (host, path), page in hosted_index().items():
        if host == "apps.apple.com" and (m := re.search(r"/id(\d+)$", path)):
            apps.setdefault(int(m.group(1)), {
                "id": int(m.group(1)), "name": page["title"], "bundle": f"app.{m.group(1)}", "seller": page["subtitle"],
                "seller_url": page["link"], "genre": "Finance", "description": " ".join(page["body"]), "terms": [],
            })  # fmt: skip
    results = [_itunes_result(apps[i]) for i in sorted(wanted & set(apps))] if fault != "empty" else []
    body: dict[str, Any] = {"resultCount": len(results), "results": results}
    if fault == "schema":
        body = {"resultCount": len(results), "items": results}
    return Response(body=jsonr(body).body, content_type="text/javascript; charset=utf-8")


def itunes(q: dict[str, str], fault: str | None) -> Response:
    terms = set((q.get("term") or "").lower().replace("+", " ").split())
    pk = (q.get("country") or "us").lower() == "pk"
    apps = (
        [] if fault == "empty" or not pk else [a for a in data()["itunes"]["apps"] if terms & set(a["terms"])]
    )
    results = [_itunes_result(a) for a in apps]
    body: dict[str, Any] = {"resultCount": len(results), "results": results}
    if fault == "schema":
        body = {"resultCount": len(results), "items": results}
    return Response(body=jsonr(body).body, content_type="text/javascript; charset=utf-8")  # as Apple sends it


def _itunes_result(a: dict[str, Any]) -> dict[str, Any]:
    result = {
        "wrapperType": "software", "kind": "software", "trackId": a["id"], "trackName": a["name"],
        "bundleId": a["bundle"], "sellerName": a["seller"], "artistName": a["seller"],
        "trackViewUrl": f"http://apps.apple.com/pk/app/{a['bundle'].split('.')[-2]}/id{a['id']}?uo=4",
        "description": a["description"], "primaryGenreName": a["genre"], "genres": [a["genre"]],
        "price": 0.0, "formattedPrice": "Free", "currency": "PKR", "version": "2.4.1",
        "releaseDate": "2025-03-04T08:00:00Z", "averageUserRating": 4.5, "userRatingCount": 1200,
    }  # fmt: skip
    if a.get("seller_url"):
        result["sellerUrl"] = a["seller_url"]
    return result


# ---------------------------------------------------------------- Telegram public preview


def _message_html(channel: str, m: dict[str, Any], fault: str | None) -> str:
    text = escape(m["text"])
    for word in text.split():
        if word.startswith("@") and len(word) > 1:
            text = text.replace(word, f'<a href="http://t.me/{word[1:]}">{word}</a>')
    links = "".join(
        f' <a href="{escape(u)}" target="_blank" rel="noopener">{escape(u)}</a>' for u in m.get("links", [])
    )
    css = "tgme_widget_message_txt" if fault == "schema" else "tgme_widget_message_text"
    return (
        f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message '
        f'text_not_supported_wrap js-widget_message" data-post="{channel}/{m["id"]}">'
        f'<div class="{css} js-message_text" dir="auto">{text}{links}</div>'
        f'<div class="tgme_widget_message_info"><a class="tgme_widget_message_date" href="https://t.me/{channel}/{m["id"]}">'
        f'<time datetime="{m["at"]}" class="time">{m["at"][11:16]}</time></a></div></div></div>'
    )


def telegram(name: str, fault: str | None) -> Response:
    channel = _channels()[name]
    messages = "" if fault == "empty" else "".join(_message_html(name, m, fault) for m in channel["messages"])
    return html(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(channel["title"])} – Telegram</title>'
        f'<meta property="og:title" content="{escape(channel["title"])}"></head><body class="widget_frame_base tgme_webpreview">'
        f'<header class="tgme_header"><div class="tgme_channel_info_header"><div class="tgme_channel_info_header_title">'
        f'<span dir="auto">{escape(channel["title"])}</span></div><div class="tgme_channel_info_header_username">'
        f'<a href="https://t.me/{name}">@{name}</a></div></div><div class="tgme_channel_info_counters">'
        f'<div class="tgme_channel_info_counter"><span class="counter_value">{channel["subscribers"]}</span> '
        f'<span class="counter_type">subscribers</span></div></div></header>'
        f'<main class="tgme_main"><section class="tgme_channel_history js-message_history">{messages}</section></main>'
        "</body></html>"
    )


# ---------------------------------------------------------------- a regulator's warning list


def warning_list(as_csv: bool, fault: str | None) -> Response:
    entries = [] if fault == "empty" else data()["warning_list"]["entries"]
    website = "Link" if fault == "schema" else "Website"
    header = ["No.", "Name of unauthorised entity", website, "Remarks", "Date added"]
    rows = [[str(i + 1), e["name"], e["website"], e["remarks"], e["added"]] for i, e in enumerate(entries)]
    if as_csv:
        out = io.StringIO()
        writer = csvsafe.writer(out)  # the one CSV writer (a warning list names hostile sites too)
        writer.writerow(header)
        writer.writerows(rows)
        return Response(body=out.getvalue().encode(), content_type="text/csv; charset=utf-8")
    cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return html(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Investor Alert List</title></head><body>"
        "<h1>Investor Alert List</h1><p>Unauthorised websites, investment products, companies and individuals.</p>"
        f"<table class='alert-list'><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table></body></html>"
    )
