"""Page identity for mirror grouping: brand, a digest of the visible text, a cross-platform canonical.

A mirror is the same site under another domain: same brand and the same pages, usually with only
host names changed. So the text digest is taken over the visible text (no scripts, styles or
attributes) with every host name masked (a mirror may or may not rewrite ``support@original``), and
whitespace and case folded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from scanner.detection.document import Document
from scanner.detection.platform import platform_key
from scanner.names import InvalidName
from scanner.names import platform_key as checked_platform_key
from scanner.textscan import ChainPattern, sub_chains

# Tried only where a run of whitespace begins, and read possessively: tried at every space of a
# title padded with a megabyte of them, each try read the run to its end (quadratic).
_TITLE_SEPARATORS = re.compile(r"(?<!\s)\s++[|\u2013\u2014\-\u00b7:]\s++")
_HOST_NAME = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b")
# Where a host name may be: its top-level domain, a dot and two letters (not the full stop ending a
# sentence, not a decimal point).
_HOSTLIKE_DOT = re.compile(r"\.[a-z]{2}")
# In a word holding one, a run of word characters, dots and hyphens with such a dot: the only places
# a host name can be (it is made of those characters, and the characters around a run are not word
# characters, so _HOST_NAME reads a run alone as it reads it in the text). Found from the start of a
# run only, so each run is read once.
_HOSTLIKE_RUN = re.compile(r"(?<![\w.-])[\w.-]*\.[a-z]{2}[\w.-]*")
# A run this short is masked by _HOST_NAME itself: its retries (see scanner.textscan) cost at most
# a few dozen steps per character.
SHORT_RUN = 64
_HOST_NAMES = ChainPattern(
    _HOST_NAME,
    starts=re.compile(r"\b[a-z0-9]"),
    labels=re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"),
    run=re.compile(r"[a-z0-9-]+"),
)
_BRAND_XPATHS = (
    etree.XPath('//meta[@property="og:site_name"]/@content'),
    etree.XPath('//meta[@name="application-name"]/@content'),
)
_TITLE_TEXT = etree.XPath("//title/text()")
_CANONICAL_HREF = etree.XPath('//link[@rel="canonical"]/@href')
# What a browser does not show (a name test each: a predicate on every element costs ~10x more).
_HIDDEN_TAGS = ("script", "style", "noscript", "template")
_HIDDEN = etree.XPath("|".join(f".//{tag}" for tag in _HIDDEN_TAGS))
_TEXT = etree.XPath("string()")


@dataclass(frozen=True)
class PageIdentity:
    brand: str  # casefolded; "" when the page names none
    text_digest: str  # "" for documents without visible text (JSON, images)
    canonical_key: str | None  # platform a rel=canonical link names, when not the page's own


def _norm(text: str) -> str:
    # str.split() splits on exactly the characters \s matches: re.sub(r"\s+", " ", text).strip(), faster.
    return " ".join(text.split()).casefold()


def _mask_run(run: re.Match[str]) -> str:
    text = run.group()
    return _HOST_NAME.sub("\x00", text) if len(text) <= SHORT_RUN else sub_chains(_HOST_NAMES, "\x00", text)


def _mask_hosts(norm: str) -> str:
    """Host names in normalised text replaced by NUL: ``_HOST_NAME.sub("\\x00", norm)``, in time linear in
    the text (a page can hold "a.a.a.a…" by the megabyte), and quickly: most words hold no dot before
    two letters (those dots are found in C; only the words around them are read)."""
    parts: list[str] = []
    done = 0  # norm[:done] is in parts
    for dot in _HOSTLIKE_DOT.finditer(norm):
        at = dot.start()
        if at < done:
            continue  # in a word masked already
        start = norm.rfind(" ", done, at) + 1 or done
        end = norm.find(" ", at)
        end = len(norm) if end < 0 else end
        parts += (norm[done:start], _HOSTLIKE_RUN.sub(_mask_run, norm[start:end]))
        done = end
    if not parts:
        return norm
    parts.append(norm[done:])
    return "".join(parts)


def _valid_key(key: str) -> bool:
    try:
        checked_platform_key(key)
    except InvalidName:
        return False
    return True


def _brand(tree: etree._Element) -> str:
    for xpath in _BRAND_XPATHS:
        values = [v for v in xpath(tree) if v.strip()]
        if values:
            return _norm(values[0])
    titles = _TITLE_TEXT(tree)
    if not titles:
        return ""
    # "Deposit with JazzCash | RupeeX": the site name is the last part of a separated title.
    parts = [p for p in _TITLE_SEPARATORS.split(titles[0]) if p.strip()]
    return _norm(parts[-1]) if parts else ""


def _visible_text(body: etree._Element) -> str:
    """The text of ``body`` without scripts, styles, noscript and template content.

    Read from detection's tree, which must come out unchanged: its signals locate elements by their
    position in it. The hidden elements stand aside while the text is read (their tails stay in
    place) and go back where they were."""
    aside: list[tuple[etree._Element, etree._Element]] = []
    outer: set[etree._Element] = set()
    try:
        for element in _HIDDEN(body):  # in document order: an outer element before those inside it
            if outer and any(ancestor in outer for ancestor in element.iterancestors()):
                continue  # inside one set aside already
            outer.add(element)
            stand_in = etree.Element("pkscan-hidden")
            stand_in.tail = element.tail
            element.getparent().replace(element, stand_in)
            aside.append((stand_in, element))
        return str(_TEXT(body))
    finally:
        for stand_in, element in reversed(aside):
            tail = stand_in.tail
            stand_in.getparent().replace(stand_in, element)
            element.tail = tail


def page_identity(document: Document) -> PageIdentity | None:
    """Identity of an HTML document, None for anything else (API JSON, images, unparseable bytes).

    Read from the tree detection parsed (`Document.html_root`): the page is parsed once, and its
    brand and text are decoded as detection and officers read them."""
    content_type = (document.content_type or "").lower()
    head = document.body[:512].lstrip().lower()
    if "html" not in content_type and not head.startswith((b"<!doctype html", b"<html")):
        return None
    tree = document.html_root()
    if tree is None:
        return None
    brand = _brand(tree)
    own_key = platform_key(document.url)
    canonical_key = None
    for href in _CANONICAL_HREF(tree)[:1]:
        key = platform_key(urljoin(document.url, href.strip()))
        # Only a key a platform can have (`scanner.names`): "https://aaa…(600).com/" gave a key
        # longer than its column, which PostgreSQL refused (the page's batch was not stored).
        if key and key != own_key and _valid_key(key):
            canonical_key = key
    body = tree.find("body")
    text = _mask_hosts(_norm(_visible_text(body) if body is not None else ""))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
    return PageIdentity(brand=brand[:256], text_digest=digest, canonical_key=canonical_key)
