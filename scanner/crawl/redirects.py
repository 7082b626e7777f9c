"""Scrapy's redirect and meta-refresh middlewares, with a redirect to an invalid URL named as such.

A ``Location`` (or ``<meta http-equiv="refresh">``) such as ``http://[::1`` or
``http://host:99999/`` made Scrapy raise ``ValueError`` while building the next request: the page
failed and the run summary said ``ValueError``. The page still fails (there is nowhere to go), with
the reason ``redirect to an invalid URL``; the URL itself is in the log, never in the summary, which
officers read. Redirects to a scheme other than http(s) stay as Scrapy handles them (not followed;
the egress policy refuses the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

INVALID_TARGET = "redirect to an invalid URL"


class _NamedInvalidTarget:
    def process_response(self, request: Request, response: Response, *args: Any) -> Request | Response:
        try:
            return super().process_response(request, response, *args)  # type: ignore[misc,no-any-return]
        except ValueError as exc:
            raise IgnoreRequest(f"{INVALID_TARGET} ({type(exc).__name__})") from exc


class CheckedRedirectMiddleware(_NamedInvalidTarget, RedirectMiddleware):
    pass


class CheckedMetaRefreshMiddleware(_NamedInvalidTarget, MetaRefreshMiddleware):
    pass
