"""Downloader middleware: a page is parsed (link extraction, the render check, detection) only once it
is `scanner.markup.parseable`: no element with more attributes than libxml2 can read in reasonable
time, nothing after ``</html>`` dropped (libxml2 drops it, browsers show it).

It sits below decompression (590) and above rendering (580): it sees the decoded body, after the
capture recorded the response as received, and before anything parses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.http import HtmlResponse

from scanner.markup import parseable

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class AttributeCapMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse):
            return response
        body = parseable(response.body)
        if body is response.body:
            return response
        return response.replace(body=body, flags=[*response.flags, "pkscan-markup-prepared"])
