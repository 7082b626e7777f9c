"""Cookies a site sets are kept within browsers' limits: a site setting hundreds of new cookies on
every page cannot grow the crawl's cookie jar, and every request it sends back, without end."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.http import Response
from sqlmodel import Session, select

from scanner.crawl.cookies import BoundedCookiesMiddleware
from scanner.store.models import Capture, Run

from .conftest import Hostile, crawl_site

PAGES = 21  # max_depth is at most 20


def test_a_site_setting_hundreds_of_cookies_a_page_gets_back_at_most_a_browsers_share(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.cookie_bytes.clear()
    engine, _ = crawl_site(hostile, tmp_path, ["/cookies/0"], max_depth=PAGES - 1)
    with Session(engine) as session:
        pages = [c.url for c in session.exec(select(Capture)) if "/cookies/" in c.url]
        run = session.exec(select(Run).where(Run.kind == "crawl")).one()
    assert len(pages) == PAGES, ("the whole chain was crawled", run.error_summary)
    # Before: every cookie went back on every request (the jar's cost quadratic in the pages); from
    # the third page on the request was too large for the site's server, and the crawl ended there.
    # Chromium keeps 180 cookies per site.
    assert max(hostile.cookie_bytes) < 180 * 80, max(hostile.cookie_bytes)
    assert run.stats.get("pkscan/cookies_refused", 0) >= PAGES * 300 - 180


def _visit(middleware: BoundedCookiesMiddleware, url: str, set_cookies: list[bytes]) -> int:
    """Cookies sent on a request to ``url``, then ``set_cookies`` set by its response."""
    request = Request(url)
    middleware.process_request(request)
    sent = (request.headers.get(b"Cookie") or b"").count(b"=")
    middleware.process_response(request, Response(url, headers={b"Set-Cookie": set_cookies}, request=request))
    return sent


def test_a_sites_share_is_counted_over_its_subdomains_and_leaves_other_sites_theirs() -> None:
    middleware = BoundedCookiesMiddleware()
    _visit(middleware, "https://www.x.test/", [b"w%d=v; Path=/" % i for i in range(150)])
    _visit(middleware, "https://shop.x.test/", [b"s%d=v; Path=/" % i for i in range(150)])
    _visit(middleware, "https://www.y.test/", [b"y%d=v; Path=/" % i for i in range(100)])
    assert _visit(middleware, "https://www.x.test/", []) == 150
    assert _visit(middleware, "https://shop.x.test/", []) == 30  # 180 for x.test in all
    assert _visit(middleware, "https://www.y.test/", []) == 100
