"""Markup made safe to parse (`parseable`): no element with more than `MAX_ATTRIBUTES` attributes, and
nothing after an ``</html>`` end tag lost; and a parse that libxml2 cut short at its nesting limit
done again on markup nested no deeper than `MAX_DEPTH` (`parse_complete`).

libxml2 stops parsing at a nesting depth of 256 (2048 with ``huge_tree``) and drops the rest of the
page; browsers go on (Chromium nests no deeper than 512 and shows everything). 3,000 ``<div>`` (15
KB) before a page's offer, even closed again, hid the offer from detection and its links from the
crawl. `parse_complete` parses as its caller does and, only when libxml2 reports that limit (so an
ordinary page costs nothing more), parses `flatten_deep` of the markup: elements that would open
deeper than `MAX_DEPTH` placed beside the innermost open one instead, their content and links kept.

libxml2's HTML parser drops everything after ``</html>``; browsers do not (the HTML standard puts it
in the body). A page whose body says "hello" and whose offer ("Buy USDT with JazzCash …") and links
come after ``</html>`` was cleared by detection and its links were never followed, while every
visitor saw the offer. `keep_after_html_end` renames such end tags (``</html-ignored>``: an end tag
libxml2 ignores), so the content stays in the tree as a browser keeps it.

libxml2's HTML parser (lxml 6.1.3, libxml2 2.14.6, the newest there is) compares each attribute of an
element with every one before it, so an element's attributes cost time quadratic in their number:
0.35 s for 20,000, 8.3 s for 80,000, tens of minutes for a 10 MB page of one such element. Every
parse of a fetched page (detection, the crawl's link extraction, the officers' text view) goes
through `cap_attributes` first: a start tag with more attributes keeps its first `MAX_ATTRIBUTES`
(real elements have a few dozen at most; 256 attributes cost libxml2 ~0.1 ms). The evidence keeps the bytes as they were received.

The scan is linear: it looks for a start tag with `MAX_ATTRIBUTES` attributes in a row, and each
attribute is read atomically, so a tag with fewer is given up at its end and never re-split.
Attributes are read as libxml2 reads them (a name, an optional ``=`` and a quoted or bare value,
with or without whitespace before the next one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, AnyStr

from lxml import etree

from scanner._crowded import attributes_end, crowded_tag, html_end_at

MAX_ATTRIBUTES = 256


def _compile(pattern: str) -> tuple[re.Pattern[str], re.Pattern[bytes]]:
    return re.compile(pattern), re.compile(pattern.encode())


def cap_attributes(markup: AnyStr) -> AnyStr:
    """``markup`` with every start tag cut to its first `MAX_ATTRIBUTES` attributes (the same object
    when no tag has more, as on every real page). The scan is in C (`scanner._crowded`, which says
    how a tag and its attributes are read)."""
    found = crowded_tag(markup, 0, MAX_ATTRIBUTES)
    if found is None:
        return markup
    parts: list[AnyStr] = []
    done = 0
    while found is not None:
        kept_end = found[1]
        dropped_end = attributes_end(markup, kept_end)
        parts += (markup[done:kept_end],)
        done = dropped_end
        found = crowded_tag(markup, dropped_end, MAX_ATTRIBUTES)
    parts.append(markup[done:])
    return markup[:0].join(parts)


# An end tag named html: "</html" then anything that cannot continue a tag name (">", a blank, "/").
_HTML_END_TAG = r"</(html)(?![A-Za-z0-9:_.-])"
_HTML_END = (re.compile(_HTML_END_TAG, re.IGNORECASE), re.compile(_HTML_END_TAG.encode(), re.IGNORECASE))
_NOT_BLANK = _compile(r"\S")


def _html_end(markup: AnyStr, which: int) -> re.Match[Any] | None:
    """``_HTML_END[which].search(markup)``, tried only where ``</html`` starts (found in C,
    `scanner._crowded.html_end_at`): re's case-insensitive search has no literal prefix to look for
    and reads every character (~0.45M instructions of a typical 40 KB page, every page)."""
    pattern = _HTML_END[which]
    at = html_end_at(markup, 0)
    while at >= 0:
        found = pattern.match(markup, at)
        if found is not None:
            return found
        at = html_end_at(markup, at + 1)
    return None


def keep_after_html_end(markup: AnyStr) -> AnyStr:
    """``markup`` with every ``</html>`` end tag renamed to one libxml2 ignores when anything but
    blanks follows the first one, so that it is parsed as a browser parses it (the same object
    otherwise, as on every ordinary page, which ends with ``</html>`` and a newline)."""
    which = 0 if isinstance(markup, str) else 1
    found = _html_end(markup, which)
    if found is None:
        return markup
    tag_end = markup.find(">" if which == 0 else b">", found.end())  # type: ignore[arg-type]
    if tag_end < 0 or _NOT_BLANK[which].search(markup, tag_end + 1) is None:
        return markup
    return _HTML_END[which].sub(r"</\1-ignored" if which == 0 else rb"</\1-ignored", markup)  # type: ignore[arg-type]


def parseable(markup: AnyStr) -> AnyStr:
    """``markup`` as every parse of a fetched page must see it: `cap_attributes`, then
    `keep_after_html_end` (the same object when neither changes anything)."""
    return keep_after_html_end(cap_attributes(markup))


# Below libxml2's limit without huge_tree (256, html and body included), far above real pages.
MAX_DEPTH = 200
_VOID = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr basefont bgsound frame".split()
)
# A tag: "<", an optional "/", a name, then anything up to ">" that is not "<" (a "<" without its ">"
# is given up at the next "<", so the scan stays linear).
_TAG = _compile(r"<(/?)([A-Za-z][^\s/<>]*)[^<>]*>")
_END_OPEN, _END_CLOSE = ("</", b"</"), (">", b">")


def flatten_deep(markup: AnyStr) -> AnyStr:
    """``markup`` nested no deeper than `MAX_DEPTH`: an element that would open deeper is preceded by
    an end tag of the innermost open one, so it becomes its sibling (as Chromium places elements
    beyond its depth limit); every element, its text and its links stay. Open elements are tracked
    as a parser tracks them: an end tag closes the innermost open element of its name and those
    inside it, one with no open element of its name is ignored, void and self-closed ones open
    nothing."""
    which = 0 if isinstance(markup, str) else 1
    if markup.count("<" if which == 0 else b"<") <= MAX_DEPTH:  # type: ignore[arg-type]
        return markup
    stack: list[Any] = []
    open_names: dict[Any, int] = {}
    closes: list[tuple[int, Any]] = []  # (where, the name of the element closed there)
    slash, void = ("/", _VOID) if which == 0 else (b"/", {name.encode() for name in _VOID})
    for tag in _TAG[which].finditer(markup):  # type: ignore[arg-type]
        name = tag.group(2).lower()
        if tag.group(1):
            if open_names.get(name):
                while stack:
                    top = stack.pop()
                    open_names[top] -= 1
                    if top == name:
                        break
            continue
        if name in void or tag.group(0)[-2:-1] == slash:
            continue
        if len(stack) >= MAX_DEPTH:
            top = stack.pop()
            open_names[top] -= 1
            closes.append((tag.start(), top))
        stack.append(name)
        open_names[name] = open_names.get(name, 0) + 1
    if not closes:
        return markup
    parts, done = [], 0
    for at, name in closes:
        parts += (markup[done:at], markup[:0].join((_END_OPEN[which], name, _END_CLOSE[which])))  # type: ignore[arg-type]
        done = at
    parts.append(markup[done:])
    return markup[:0].join(parts)


def cut_short(root: Any) -> bool:
    """Whether the parse that made ``root`` stopped at libxml2's nesting limit (the rest was lost)."""
    if root is None:
        return False
    error = root.getroottree().parser.error_log.last_error
    return error is not None and error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT


def parse_complete(markup: AnyStr, parse: Callable[[AnyStr], Any]) -> Any:
    """``parse(parseable(markup))``, done again on `flatten_deep` of it if libxml2 stopped at its
    nesting limit: the whole page is in the tree, as in a browser."""
    ready = parseable(markup)
    root = parse(ready)
    if cut_short(root):
        root = parse(flatten_deep(ready))
    return root
