"""Scrapy's redirect and meta-refresh middlewares, with a redirect to an invalid URL named as such,
and a ``Refresh`` response header followed as browsers follow it.

A ``Location`` (or ``<meta http-equiv="refresh">``) such as ``http://[::1`` or
``http://host:99999/`` made Scrapy raise ``ValueError`` while building the next request: the page
failed and the run summary said ``ValueError``. The page still fails (there is nowhere to go), with
the reason ``redirect to an invalid URL``; the URL itself is in the log, never in the summary, which
officers read. Redirects to a scheme other than http(s) stay as Scrapy handles them (not followed;
the egress policy refuses the rest).

Scrapy follows ``<meta http-equiv="refresh">`` but not the ``Refresh: 0; url=/offer`` header, which
every browser follows: a site could show visitors its offer while the crawl stayed on a clean
page. The header is read with the same parser as the ``<meta>`` (w3lib) and followed under the
same rules (``METAREFRESH_MAXDELAY``, http and https only, counted as a redirect).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from w3lib.html import get_meta_refresh

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

INVALID_TARGET = "redirect to an invalid URL"


def _invalid_target(exc: ValueError) -> IgnoreRequest:
    return IgnoreRequest(f"{INVALID_TARGET} ({type(exc).__name__})")


class _NamedInvalidTarget:
    def process_response(self, request: Request, response: Response, *args: Any) -> Request | Response:
        try:
            return super().process_response(request, response, *args)  # type: ignore[misc,no-any-return]
        except ValueError as exc:
            raise _invalid_target(exc) from exc


class CheckedRedirectMiddleware(_NamedInvalidTarget, RedirectMiddleware):
    pass


class CheckedMetaRefreshMiddleware(_NamedInvalidTarget, MetaRefreshMiddleware):
    def process_response(self, request: Request, response: Response, *args: Any) -> Request | Response:
        followed = super().process_response(request, response, *args)
        header = response.headers.get(b"Refresh")
        if (
            followed is not response
            or not header
            or request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return followed
        meta = f'<meta http-equiv="refresh" content="{html.escape(header.decode("latin-1"))}">'
        try:
            interval, url = get_meta_refresh(meta, response.url)
            if not url or interval is None or interval >= self._maxdelay:
                return response
            redirected = self._redirect_request_using_get(request, response, url)
        except ValueError as exc:
            raise _invalid_target(exc) from exc
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        return self._redirect(redirected, request, "refresh header")
