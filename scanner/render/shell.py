"""The ``auto`` rule: is this HTML a JavaScript shell whose content only a browser would see?"""

from __future__ import annotations

import lxml.html
from lxml import etree

from scanner.markup import parse_complete


def visible_text_length(root: etree._Element) -> int:
    body = root.find("body")
    if body is None:
        body = root
    length = 0
    # Text of scripts, styles, <noscript> and templates is not what a visitor sees.
    hidden = "ancestor::*[self::script or self::style or self::noscript or self::template]"
    for text in body.xpath(f".//text()[not({hidden})]"):
        length += len(" ".join(str(text).split()))
    return length


def looks_like_js_shell(page: bytes | etree._Element, max_text: int) -> bool:
    """True for a page with at most ``max_text`` characters of visible text, at least one script and
    a ``div`` (the root an app mounts into): an SPA shell such as ``<div id="root"></div><script src=…>``.

    A page with real text is left alone even if it has scripts: rendering costs a browser. ``page`` is
    the body, or its parsed tree when the caller has one already (the crawl passes the response's, which
    the spider's link extraction then reuses: one parse per page).
    """
    if isinstance(page, bytes):
        if not page.strip():
            return False
        try:
            root = parse_complete(page, lxml.html.document_fromstring)
        except (etree.ParserError, ValueError):
            return False
    else:
        root = page
    # Element walks rather than XPath ("//script", "//body//div"): the crawl asks this of every HTML
    # page, and compiling and running the expressions cost ~15 µs a page where nearly all say no.
    if next(root.iter("script"), None) is None or not any(
        next(body.iter("div"), None) is not None for body in root.iter("body")
    ):
        return False
    return visible_text_length(root) <= max_text
