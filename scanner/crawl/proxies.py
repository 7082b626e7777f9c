"""Scrapy's HttpProxyMiddleware, applying ``NO_PROXY`` once per host instead of once per request.

Scrapy reads the environment's proxies once, but for every request without a proxy of its own it
asks `urllib.request.proxy_bypass`, which walks and decodes the whole environment again (~3% of a
crawl process's time). Here the environment is read once, as Scrapy reads the proxies, and each
host's answer is kept. Requests with ``meta["proxy"]`` (a vantage point's, `scanner.crawl.vantage`)
go through Scrapy's code unchanged.
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request

MAX_HOSTS = 10_000  # answers kept; hosts beyond that are asked each time, as Scrapy does


class EnvironmentProxyMiddleware(HttpProxyMiddleware):
    def __init__(self, auth_encoding: str | None = "latin-1"):
        super().__init__(auth_encoding)
        self.environment = urllib.request.getproxies_environment()
        self.bypassed: dict[str, bool] = {}

    def bypass(self, host: str) -> bool:
        """Whether ``NO_PROXY`` exempts ``host`` (as `urllib.request.proxy_bypass_environment` says)."""
        answer = self.bypassed.get(host)
        if answer is None:
            answer = bool(urllib.request.proxy_bypass_environment(host, self.environment))
            if len(self.bypassed) < MAX_HOSTS:
                self.bypassed[host] = answer
        return answer

    def process_request(self, request: Request) -> None:
        if "proxy" in request.meta or not self.proxies:
            return super().process_request(request)
        # Scrapy's choice for a request without a proxy of its own ('no_proxy' applies to http(s) only).
        parsed = urlparse_cached(request)
        scheme = parsed.scheme
        if scheme in self.proxies and (
            scheme not in {"http", "https"} or (parsed.hostname and not self.bypass(parsed.hostname))
        ):
            creds, proxy_url = self.proxies[scheme]
            self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        else:
            self._set_proxy_and_creds(request, None, None, None)
        return None
