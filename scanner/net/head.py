"""What a response head (status line and headers) may be, for every fetcher: the crawl's download
handler (`scanner.crawl.download`, Twisted) and the requests-based client of the pollers, ``reverify``
and ``analyze`` (`scanner.net.http`, http.client). One limit and one wording for both.

Chromium refuses a head over 256 KiB; 1,000 fields is more than any site sends; a line is cut at
Twisted's 16 KB. Before, http.client's own limits applied to the pollers (100 fields, 64 KiB a line,
no total): an API answering with 101 headers failed a poll with a retried "no response
(ConnectionError ...)", where the crawl took the same response.
"""

from __future__ import annotations

MAX_RESPONSE_HEAD_BYTES = 256 * 1024
MAX_RESPONSE_HEADER_FIELDS = 1000
MAX_RESPONSE_HEADER_LINE = 16384


def head_too_large() -> str:
    return f"response headers larger than {MAX_RESPONSE_HEAD_BYTES} bytes"


def too_many_fields() -> str:
    return f"more than {MAX_RESPONSE_HEADER_FIELDS} response headers"


def line_too_long() -> str:
    return f"a response header line longer than {MAX_RESPONSE_HEADER_LINE} bytes"
