"""The URLs a page links to: what Scrapy's default ``LinkExtractor()`` returns, for less CPU.

Our spiders read only each link's URL. Scrapy's extractor also evaluates an XPath ``string()`` for each
link's text and reads its ``rel``, walks every element of the page in Python to find ``<a>`` and
``<area>``, parses each URL again to test ~90 file extensions one ``endswith`` at a time, and removes
duplicates three times. That was ~0.35 ms of a crawl process's ~3 ms a page (bench/crawl.py, a
13 KB page with 7 links; more on real pages with hundreds). Here lxml finds the elements (in C) and
each URL goes through the same steps as Scrapy's (strip, join with the base URL, `safe_url_string`
with the page's encoding, join with the page's URL, scheme and extension filters, first occurrence
kept), so the list is the same, in the same order: tests/crawl/test_links.py compares both on every
page of the simulated web, the hostile corpus and the real-world documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.response import get_base_url
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

if TYPE_CHECKING:
    from scrapy.http import TextResponse

_XHTML = "{http://www.w3.org/1999/xhtml}"
# Scrapy's default tags, plain or in the XHTML namespace (Scrapy drops that namespace before comparing).
_TAGS = ("a", "area", _XHTML + "a", _XHTML + "area")
# str.endswith with a tuple is true when any of them matches: Scrapy's `url_has_any_extension`.
_DENIED_EXTENSIONS = tuple(sorted({"." + e for e in IGNORED_EXTENSIONS}))
# Scrapy's `_is_valid_url`: the schemes its extractor keeps (our spiders then refuse file: and ftp:).
_SCHEMES = frozenset({"http", "https", "file", "ftp"})


def link_urls(response: TextResponse) -> list[str]:
    """The URLs of the page's ``<a href>`` and ``<area href>``, absolute, each once, in page order."""
    base_url = get_base_url(response)
    page_url, encoding = response.url, response.encoding
    urls: dict[str, None] = {}  # insertion-ordered: the first occurrence of each URL is kept
    for element in response.selector.root.iter(*_TAGS):
        value = element.get("href")
        if value is None:
            continue
        try:
            url = urljoin(base_url, strip_html5_whitespace(value))
        except ValueError:
            continue  # Scrapy skips a bogus link
        try:
            url = safe_url_string(url, encoding=encoding)
        except ValueError:
            continue
        url = urljoin(page_url, url)
        if url not in urls and _kept(url):
            urls[url] = None
    return list(urls)


def _kept(url: str) -> bool:
    """Scrapy's `LxmlLinkExtractor._link_allowed` with its default arguments."""
    if url.split("://", 1)[0] not in _SCHEMES:
        return False
    return not urlparse(url).path.lower().endswith(_DENIED_EXTENSIONS)
