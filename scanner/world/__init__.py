"""The simulated web: fictional exchange sites and exchange APIs served on 127.0.0.1.

Same code in demo, tests and production: clients reach the world through standard HTTP proxy
settings (``HTTP_PROXY=http://127.0.0.1:PORT``; requests and Scrapy then send absolute-form request
lines), so code addresses realistic URLs such as ``http://rupee-exchange.test/`` with no DNS. The
server dispatches on the absolute URI's host, else on the Host header. Plain http:// only; CONNECT
is answered with 405.

Public API::

    from scanner.world import start_world, catalogue, ground_truth
    with start_world() as world:          # port=0 picks a free port
        requests.get("http://rupee-exchange.test/", proxies={"http": world.proxy_url})
    ground_truth()["rupee-exchange.test"]
    # {"verdict": "flag", "kind": "unlicensed", "mirror_of": None, "platform": "rupee-exchange.test",
    #  "name": "RupeeX", "configured": True, "needs_render": False, "note": "..."}

Ground truth kinds: unlicensed, mirror, licensed, lookalike, directory, hosted (t.me, Play, App
Store), misbehaving (badhost.test), benchmark (sprawl.test), api. ``configured`` is False for
sindhbit.test, which no config names: discovery must find it through links.
``hosted_pages()`` maps each t.me / Play / App Store page URL to the platform host it promotes
(the hosts stay "clear"; the pages are evidence about that platform).

Content comes from ``catalogue.yaml`` rendered through ``templates/``. Every host serves
``/robots.txt`` (rupee-exchange.test disallows ``/private/``); catalogue hosts also serve
``/sitemap.xml`` and ``/sitemap``, and every page links to every other page of its site.
On any host: ``/__world/ground-truth`` (JSON) and ``/__world/reset`` (forget one-off fault state).
``http://world.test/`` lists every host.

A simulated Pakistani exit (`scanner.world.exit`, ``world.pk_exit_url``) runs in front of the world:
an HTTP proxy reaching it from 127.0.0.5, the one source address the world takes for a visitor in
Pakistan. chenab-exchange.test (`scanner.world.geo`) is geo-gated: USDT/PKR, JazzCash, Easypaisa and
Urdu only through that exit, a US-dollar exchange to everyone else (ground truth ``vantage: pk``).

badhost.test
    /slow?delay=S  sleep S seconds (default ``slow_seconds`` of start_world, 10 s)
    /big           20 MB page          /loop/a       redirect loop (a -> b -> a)
    /error500      HTTP 500            /flaky        503 with Retry-After: 1
    /charset/cp1256  declared utf-8, bytes cp1256    /charset/latin1  declared iso-8859-1, bytes utf-8
    /gzip-truncated  gzip cut in half (Content-Length of the whole stream, then close)
    /gzip-corrupt    gzip header followed by garbage
    /js/forever      a JavaScript shell whose script never yields (the renderer's time budget)
    /js/internal?port=P  a JavaScript shell reaching for loopback:P, 169.254.169.254, file:///etc/passwd
    /js/download     a JavaScript shell navigating to /js/app.apk (Content-Disposition: attachment)
                     (these are not linked from badhost's index)

khybercoin.test, pindigadgets.test (``shell: script`` in the catalogue)
    every page is a shell (``<div id="app">`` and ``/static/app.js``); the app fetches
    ``/api/view?path=P`` (the page as base64) and builds the page in the browser, so its content
    exists only for a renderer. KhyberCoin (unlicensed, USDT/PKR, JazzCash) must be flagged from
    its rendered pages; Pindi Gadgets (a shop taking JazzCash) must stay clear.

sprawl.test
    /page/<i> for 0 <= i < sprawl_pages (default 20,000), ~13 KB each, links to i+1 and 5 others.

Exchange APIs
    POST http://p2p.binance.test/bapi/c2c/v2/friendly/c2c/adv/search
         body {page, rows (<= 20), tradeType BUY|SELL, asset, fiat, payTypes}; 45 PKR ads per side,
         30 INR (UPI/IMPS/...), 12 AED; ``adv.tradeType`` is the advertiser's side (opposite of the
         request's, as on Binance).
    GET  http://p2p.binance.test/en/trade/all-payments/USDT?fiat=PKR   the public P2P web page
    GET  http://www.okx.test/v3/c2c/tradingOrders/books?quoteCurrency=pkr&baseCurrency=usdt&side=buy|sell
         &paymentMethod=all&userType=all    32 PKR orders per side (no pagination, as on OKX)
    POST http://api2.bybit.test/fiat/otc/item/online  body {tokenId, currencyId, side "0"|"1", size, page}
         37 PKR items per side; POST http://api2.bybit.test/fiat/otc/configuration/queryAllPaymentList
         maps payment ids: 14 Bank Transfer, 377 Easypaisa, 378 JazzCash, 379 Raast, 380 SadaPay,
         381 NayaPay, 382 Meezan Bank, 40 UPI, 41 IMPS.
    GET  http://api.indus-spot.test/api/v3/exchangeInfo   (PKR pairs; unlicensed IndusX)
    GET  http://api.globex.test/api/v3/exchangeInfo       (no PKR pairs)
         both also serve /api/v3/ticker/price, /api/v3/ticker/24hr, /markets.json (ccxt-style
         market dict) and /tickers (ticker list).

Discovery sources (scanner.world.sources, data in sources.yaml; faults as below, plus ``schema`` and ``empty``)
    GET  http://api.coingecko.test/api/v3/exchanges, /api/v3/exchanges/{id}/tickers   CoinGecko
    GET  http://api.coinpaprika.test/v1/exchanges                                       CoinPaprika
    GET  http://crt.sh.test/?q=%25usdt%25&output=json                                   crt.sh
    GET  http://itunes.apple.test/search?term=T&country=pk&entity=software               iTunes Search
    GET  http://t.me/s/<channel>                                                         Telegram preview
    GET  http://warnings.finreg.test/alerts.csv and /alerts                              a warning list
    They name pkrx.test, usdtpak.test, bazaarcoin.test, karachiotc.test and mehranex.test (unlicensed,
    in no config) and the look-alikes pakcoinnews.test and lahorebits.test.

API faults, on every API host and path, chosen by ``?fault=NAME[&session=ID]`` or by a path
prefix ``/__fault/NAME[@ID]/`` (handy in a poller's base_url, e.g.
``http://p2p.binance.test/__fault/429_once@run1``); the session defaults to the
``X-World-Session`` header, else "default". One-off faults fire once per (session, host, fault);
use a fresh session per test or GET ``/__world/reset``.
    429_once  first request 429 with Retry-After: 1, then normal answers
    429       always 429 with Retry-After: 1
    500_once  first request 500, then normal answers
    500 / 502 / 503   that status every time (503 carries Retry-After: 1)
    malformed         200 application/json with a cut JSON document
    schema            200 JSON with renamed fields (Binance data[].advert/unitPrice, result/totalCount;
                      OKX data.bids|asks, unitPrice; Bybit retCode, result.list, unitPrice;
                      markets instruments[name, base_currency, quote_currency])
    html200           200 text/html maintenance page instead of JSON
    empty             valid envelope, no items, total 0
    geo403            403 HTML page "This service is not available in your region."
    empty_page2       page 1 normal, every later page empty while the total still says 45/37
    slow              the normal answer after ``slow_seconds`` (a client timeout test)
"""

from __future__ import annotations

import threading
from types import TracebackType

from scanner.world.catalogue import API_HOSTS, EXTRA_HOSTS, catalogue, ground_truth, iban_is_valid, pk_iban
from scanner.world.exit import PK_EXIT_ADDRESS, PakistanExit, start_exit
from scanner.world.render import hosted_pages
from scanner.world.server import WorldHTTPServer

__all__ = [
    "World",
    "start_world",
    "catalogue",
    "ground_truth",
    "hosts",
    "hosted_pages",
    "pk_iban",
    "iban_is_valid",
    "API_HOSTS",
    "EXTRA_HOSTS",
    "PK_EXIT_ADDRESS",
    "PakistanExit",
    "start_exit",
]


class World:
    """A running simulated web; stop() or use as a context manager."""

    def __init__(self, server: WorldHTTPServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host: str = server.server_address[0]  # type: ignore[assignment]
        self.port: int = server.server_address[1]
        # The simulated Pakistani exit in front of it (scanner.world.exit): a vantage point's proxy.
        self.pk_exit = start_exit((self.host, self.port), host=self.host)

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pk_exit_url(self) -> str:
        """The Pakistani exit's proxy URL (the demo's vantage point ``pk``, env PKSCAN_DEMO_PK_EXIT)."""
        return self.pk_exit.url

    @property
    def proxies(self) -> dict[str, str]:
        """For requests: ``requests.get(url, proxies=world.proxies)``."""
        return {"http": self.proxy_url}

    @property
    def request_count(self) -> int:
        return self._server.request_count

    def reset(self) -> None:
        """Forget the one-off fault state (429_once, 500_once)."""
        self._server.faults.reset()

    def stop(self) -> None:
        self.pk_exit.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> World:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_world(
    host: str = "127.0.0.1", port: int = 0, *, slow_seconds: float = 10.0, sprawl_pages: int = 20_000
) -> World:
    """Start the world in a background thread; port 0 picks a free port."""
    server = WorldHTTPServer((host, port), slow_seconds=slow_seconds, sprawl_pages=sprawl_pages)
    thread = threading.Thread(
        target=server.serve_forever, name=f"world:{server.server_address[1]}", daemon=True
    )
    thread.start()
    return World(server, thread)


def hosts() -> list[str]:
    """Every host name the world serves (sorted), plus world.test."""
    return sorted([*ground_truth(), "world.test"])
