"""A geo-gated exchange: ChenabX (``chenab-exchange.test``) shows Pakistani visitors USDT/PKR quotes,
JazzCash and Easypaisa deposits and Urdu, and everyone else a plain US-dollar exchange, as real
exchanges do by the visitor's address. A visitor is in Pakistan when the request comes from the
simulated Pakistani exit (`scanner.world.exit.PK_EXIT_ADDRESS`); so pkscan flags ChenabX only when it
crawls it through that vantage point.
"""

from __future__ import annotations

from html import escape

from scanner.world.response import Response, html, not_found

GEO_HOST = "chenab-exchange.test"
NOTE = (
    "geo-gated: USDT/PKR, JazzCash, Easypaisa and Urdu only to visitors through the Pakistani exit "
    "(vantage point pk); US dollars and cards to everyone else"
)
_PATHS = ("/", "/deposit", "/markets")

_PAGES = {
    "pk": {
        "/": (
            "ChenabX — Bitcoin aur USDT khareedein",
            "<p>ChenabX crypto exchange: buy and sell Bitcoin and USDT with Pakistani rupees. "
            "USDT/PKR spot market, 1 USDT = 289.40 PKR. Deposit PKR with JazzCash, Easypaisa or Raast "
            "in minutes.</p>"
            '<p dir="rtl" lang="ur">پاکستان میں کرپٹو خریدیں اور بیچیں۔ جاز کیش اور ایزی پیسہ سے رقم جمع کریں۔</p>'
            "<p>Support on WhatsApp +92 300 1234567, office in Karachi.</p>",
        ),
        "/deposit": (
            "ChenabX — Deposit PKR",
            "<p>Fund your ChenabX wallet in PKR: JazzCash, Easypaisa, Raast or IBFT bank transfer. "
            "Minimum deposit Rs. 1,000. Trade USDT/PKR and BTC/PKR instantly.</p>",
        ),
        "/markets": (
            "ChenabX — Markets",
            "<table><tr><th>Pair</th><th>Price</th></tr><tr><td>USDT/PKR</td><td>289.40</td></tr>"
            "<tr><td>BTC/PKR</td><td>27,350,000</td></tr><tr><td>BTC/USDT</td><td>94,500</td></tr></table>",
        ),
    },
    "world": {
        "/": (
            "ChenabX — Buy and sell crypto",
            "<p>ChenabX crypto exchange: buy and sell Bitcoin and USDT. Spot markets BTC/USDT and "
            "ETH/USDT, prices in US dollars. Deposit USD with Visa, Mastercard or a SEPA bank transfer.</p>"
            "<p>Support by e-mail, around the clock.</p>",
        ),
        "/deposit": (
            "ChenabX — Deposit",
            "<p>Fund your ChenabX wallet in USD or EUR with Visa, Mastercard or SEPA. Minimum deposit "
            "$10. Trade BTC/USDT and ETH/USDT instantly.</p>",
        ),
        "/markets": (
            "ChenabX — Markets",
            "<table><tr><th>Pair</th><th>Price</th></tr><tr><td>BTC/USDT</td><td>94,500</td></tr>"
            "<tr><td>ETH/USDT</td><td>3,410</td></tr><tr><td>BTC/USD</td><td>94,480</td></tr></table>",
        ),
    },
}


def handle(path: str, country: str | None) -> Response:
    """The page at ``path`` as a visitor from ``country`` (``PK``, or None for anywhere else) sees it."""
    edition = "pk" if country == "PK" else "world"
    page = _PAGES[edition].get(path)
    if page is None:
        return not_found(GEO_HOST, path)
    title, body = page
    nav = "".join(f'<a href="{p}">{escape(p)}</a> ' for p in _PATHS)
    lang = ' lang="en-PK"' if edition == "pk" else ' lang="en"'
    return html(
        f"<!DOCTYPE html><html{lang}><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><nav>{nav}</nav><h1>{escape(title)}</h1>{body}</body></html>"
    )
