"""Scrapy's cookie middleware with the limits browsers keep: at most `MAX_COOKIES_PER_SITE` cookies per
site (registrable domain, its subdomains included) and `MAX_COOKIE_BYTES` per cookie.

Scrapy keeps every cookie a site sets (http.cookiejar has no limit) and sends all of them back on
each request to it. A site setting 1,000 new cookies on each page (a 200 KB head, within the crawl's
head limits) made the crawl's cookie jar grow without end: after 100 pages each request carried a
16 MB Cookie header (into the WARC too) and the jar had cost the crawl process 37 s of CPU, time
quadratic in the pages, spent in the reactor thread that every other site's crawl waits on.
Chromium keeps 180 cookies per domain and 4 KB per cookie; a site's further cookies are refused
here (ones it already set can still be updated), and counted as ``pkscan/cookies_refused``.
"""

from __future__ import annotations

from collections import defaultdict
from http.cookiejar import Cookie, DefaultCookiePolicy, request_host
from typing import TYPE_CHECKING, Any

import tldextract
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http.cookies import CookieJar
from scrapy.utils.httpobj import urlparse_cached

from scanner.detection.platform import platform_key

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy import Request

MAX_COOKIES_PER_SITE = 180
MAX_COOKIE_BYTES = 4096
REFUSED_STAT = "pkscan/cookies_refused"
# Scrapy asks a module-level TLDExtract() whether a cookie's Domain is a public suffix; on first use it
# downloads the list from publicsuffix.org (outside the egress policy, no timeout, in the reactor
# thread). The list bundled with tldextract answers here, as in detection.
_SPLIT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


class BoundedCookiePolicy(DefaultCookiePolicy):
    """The default policy, refusing a new cookie once its site holds `MAX_COOKIES_PER_SITE`."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies: dict[
            str, dict[str, dict[str, Cookie]]
        ] = {}  # the jar's own store, set by `bounded_jar`
        self.refused = 0
        # The jar's domains each site has set cookies for: counting a site's cookies by scanning every
        # domain of the jar (which holds every site a crawl met) made each new cookie cost the crawl's
        # whole site count (8,000 sites of 3 cookies: 14 s in the reactor thread, bench/hostile.py).
        self.site_domains: defaultdict[str, set[str]] = defaultdict(set)

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        if not super().set_ok(cookie, request):
            return False
        if len(cookie.name) + len(cookie.value or "") > MAX_COOKIE_BYTES:
            self.refused += 1
            return False
        if cookie.name in self.cookies.get(cookie.domain, {}).get(cookie.path, {}):
            return True  # an update of one it holds
        site = platform_key(f"http://{request_host(request)}/")  # its registrable domain
        domains = self.site_domains[site]
        held = sum(len(names) for domain in domains for names in self.cookies.get(domain, {}).values())
        if held >= MAX_COOKIES_PER_SITE:
            self.refused += 1
            return False
        domains.add(cookie.domain)  # the policy only lets a site set cookies for its own domains
        return True


def bounded_jar() -> CookieJar:
    policy = BoundedCookiePolicy()
    jar = CookieJar(policy=policy)
    policy.cookies = jar.jar._cookies  # type: ignore[attr-defined]
    return jar


class BoundedCookiesMiddleware(CookiesMiddleware):
    def __init__(self, debug: bool = False):
        super().__init__(debug)
        self.jars: defaultdict[Any, CookieJar] = defaultdict(bounded_jar)

    def _process_cookies(self, cookies: Iterable[Cookie], *, jar: CookieJar, request: Request) -> None:
        """Scrapy's, with the bundled public-suffix list: a cookie for a public suffix (``Domain=.pk``)
        is kept for the request's host only."""
        hostname = urlparse_cached(request).hostname
        if hostname is None:
            return
        for cookie in cookies:
            domain = cookie.domain.removeprefix(".")
            if domain and not _SPLIT(domain).domain:
                if domain != hostname.lower():
                    continue
                cookie.domain = hostname.lower()
            jar.set_cookie_if_ok(cookie, request)

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        policy = self.jars[request.meta.get("cookiejar")].policy
        before = policy.refused  # type: ignore[attr-defined]
        result = super().process_response(request, response)
        refused = policy.refused - before  # type: ignore[attr-defined]
        stats = getattr(getattr(self, "crawler", None), "stats", None)
        if refused and stats is not None:
            stats.inc_value(REFUSED_STAT, refused)
        return result
