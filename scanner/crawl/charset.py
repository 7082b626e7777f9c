"""Downloader middleware: Scrapy reads a page in a charset browsers know, as detection does.

Scrapy (w3lib) takes any label Python has a codec for. A page declaring ``charset=zlib`` (or
``base64``, ``rot13``, ``idna``) made ``response.text`` raise in Scrapy's meta-refresh middleware,
so the page was captured but never judged; ``charset=cp037`` (EBCDIC) turned its links into noise.
Browsers ignore such labels, and so does detection (`scanner.detection.document.web_encoding`).
When Scrapy's choice is not a codec a browser-honoured label leads to, the response is read in
the encoding detection reads it in (`decode_body`); any other page is left as Scrapy reads it.

It sits below decompression (590) and above the attribute cap (585), meta refresh and rendering
(580): it sees the decoded body before anything reads the page's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.http import TextResponse

from scanner.detection.document import decode_body, is_web_codec

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

IGNORED_CHARSET_FLAG = "pkscan-charset-ignored"


class PageCharsetMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or is_web_codec(response.encoding):
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        _, encoding = decode_body(response.body, content_type)
        return response.replace(encoding=encoding, flags=[*response.flags, IGNORED_CHARSET_FLAG])
