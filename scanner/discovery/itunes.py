"""Apple's iTunes Search API: crypto apps in the Pakistani App Store.

``GET {base_url}/search?term=T&country=pk&entity=software&limit=200`` for each of ``queries``
(default: ``app_terms`` of config/discovery_words.yaml) answers ``{"resultCount", "results": [...]}``
with ``trackId``, ``trackName``, ``sellerName``, ``description``, ``trackViewUrl``, ``bundleId`` and,
for most apps, ``sellerUrl``. An app whose name or description holds a crypto word is a lead: its
seller's website when the listing gives one (that is the platform to judge), else its App Store page.
Apps crawled pages linked to (``apps.apple.com/.../id<N>`` platforms) are looked up too, in one
``GET {base_url}/lookup?id=N,M,...&country=pk`` (same answer shape): their seller's website is a lead,
whatever their words. Apple sends the JSON as ``text/javascript``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.discovery.base import Fields, Lead, SourceContext

LIMIT = 200


def discover(ctx: SourceContext) -> Iterator[Lead]:
    yield from _search(ctx)
    yield from _linked(ctx)


def _linked(ctx: SourceContext) -> Iterator[Lead]:
    """Sellers of the App Store apps crawled pages linked to."""
    ids = [m.group(1) for key in ctx.hosted if (m := re.fullmatch(r"apps\.apple\.com/app/id(\d+)", key))]
    if not ids or not ctx.budget_left():
        return
    fetched = ctx.get("/lookup", params={"id": ",".join(ids[:LIMIT]), "country": ctx.target.country})
    apps = list(Fields(fetched.json(), "response", fetched).items("results"))
    for app in apps:  # every field first: a renamed one stores nothing
        app.req_num("trackId"), app.req_str("trackName")
    for app in apps:
        seller = (app.str("sellerUrl", optional=True) or "").strip()
        if seller:
            by = app.str("sellerName", optional=True) or "unknown seller"
            reason = f"seller of app {app.req_str('trackName')!r} (id{int(app.req_num('trackId'))}) linked from a crawled page, by {by}"
            yield ctx.lead(seller, fetched, reason)


def _search(ctx: SourceContext) -> Iterator[Lead]:
    words = [w for w in ctx.words.crypto if len(w) > 3] or ctx.words.crypto  # "bit" alone matches "habit"
    crypto = (
        re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE) if words else None
    )
    seen: set[int] = set()
    for term in ctx.target.queries or ctx.words.app_terms:
        if not ctx.budget_left():
            return
        fetched = ctx.get(
            "/search",
            params={"term": term, "country": ctx.target.country, "entity": "software", "limit": LIMIT},
        )
        apps = list(Fields(fetched.json(), "response", fetched).items("results"))
        for app in apps:  # every field first: a renamed one stores nothing
            app.req_num("trackId"), app.req_str("trackName"), app.req_str("trackViewUrl")
        for app in apps:
            track = int(app.req_num("trackId"))
            text = f"{app.req_str('trackName')} {app.str('description', optional=True) or ''}"
            if track in seen or crypto is None or not crypto.search(text):
                continue
            seen.add(track)
            seller = (app.str("sellerUrl", optional=True) or "").strip()
            by = (
                app.str("sellerName", optional=True)
                or app.str("artistName", optional=True)
                or "unknown seller"
            )
            reason = (
                f"app {app.req_str('trackName')!r} ({app.str('bundleId', optional=True) or track}) by {by} in the "
                f"{ctx.target.country.upper()} App Store for {term!r}"
            )
            yield ctx.lead(seller or app.req_str("trackViewUrl"), fetched, reason)
