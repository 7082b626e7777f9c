"""Documents and text extraction.

A `Document` is what was fetched: URL, content type, raw bytes. `Document.extract()` turns it into
one searchable text made of *parts*, each remembering where it came from, so a regex hit anywhere
in the joined text maps back to a locator:

- HTML (parsed with lxml directly: in bench/detect.py building the bs4 tree on top of lxml costs
  about 25x a bare lxml parse, more than all the detection that follows): visible text (``/html/body/div[2]/p``), attributes people read or links carry
  (``alt``, ``title``, ``placeholder``, ``aria-label``, ``value`` on buttons, ``href``) as
  ``xpath/@attr``, ``<meta>`` / OpenGraph content as ``og:title: ...`` parts, and JSON script
  tags (``__NEXT_DATA__``, ``application/json``, ``application/ld+json``) walked key by key with
  JSON pointers (``//script[@id="__NEXT_DATA__"]#/props/pageProps/fiat``), and state blobs in
  script text (`state_blobs`: ``window.__INITIAL_STATE__ = {...}``, ``self.__next_f.push(...)``)
  where they parse, located by the assignment too (``/html/body/script[2][window.__NUXT__]#/data/0``).
- JSON documents (API responses): walked key by key; every scalar becomes ``key: value`` at its
  JSON pointer, so field rules (``fiat: PKR``) and vocabulary rules run on the same text. Bodies
  above ``MAX_JSON_BYTES`` are streamed (ijson) in windows (`Document.windows`): memory stays
  bounded and a 40 MB P2P response is still judged on its fields.
- Anything else: plain text, locators are character offsets.

Bytes are decoded from the declared charset (Content-Type), a BOM, a ``<meta charset>``, then
UTF-8, then cp1252; undecodable bytes are replaced, never raised on.
"""

from __future__ import annotations

import codecs
import collections
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import ijson
import webencodings
from lxml import etree

from scanner.detection import _htmlwalk, _jsonwalk
from scanner.detection._parts import collapsed_join, first_parts, part_indices
from scanner.markup import parse_complete
from scanner.printable import storable

# Whitespace read possessively: backtracking "\s*" then "\s*" over a run of it cost time quadratic
# in the run (0.15 s for a page head of 4,000 spaces, on every such page).
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*+=\s*+["']?\s*+([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_WS = re.compile(r"\s+")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]{0,200}\?>")
_SKIP_TEXT_TAGS = frozenset({"script", "style", "template", "svg", "math"})
_READ_ATTRS = frozenset({"alt", "title", "placeholder", "aria-label", "label", "data-title", "data-tooltip"})
_LINK_ATTRS = frozenset({"href", "action", "data-href"})
_READ, _VALUE, _LINK, _SRC, _LANG = "read", "value", "link", "src", "lang"
_ATTR_ROLES = {
    **dict.fromkeys(_READ_ATTRS, _READ),
    **dict.fromkeys(_LINK_ATTRS, _LINK),
    **dict.fromkeys(("lang", "hreflang", "xml:lang"), _LANG),
    "value": _VALUE,  # on buttons, inputs and options
    "src": _SRC,  # on iframes and links
}
_VALUE_TAGS = frozenset({"button", "input", "option"})
_SRC_TAGS = frozenset({"iframe", "a"})
_NOT_LINKS = ("data:", "#", "javascript:")
_JSON_SCRIPT_TYPES = ("application/json", "application/ld+json")
_META_KEYS = frozenset(
    {
        "description",
        "keywords",
        "application-name",
        "author",
        "twitter:title",
        "twitter:description",
        "geo.region",
        "geo.placename",
        "geo.country",
        "language",
        "content-language",
        "og:locale",
        "og:locale:alternate",
    }
)
MAX_JSON_DEPTH = 64
# JSON documents up to this many characters are parsed whole (json.loads); bigger ones (a P2P API
# page of 100k ads) are streamed (ijson) and analysed in windows of JSON_WINDOW_CHARS of text, so
# memory stays bounded whatever the size. Embedded JSON scripts above it are skipped.
MAX_JSON_BYTES = 8 * 1024 * 1024
JSON_WINDOW_CHARS = 4 * 1024 * 1024


def web_encoding(label: str | None) -> str | None:
    """The Python codec of a charset label that browsers honour, or None.

    Browsers know only the labels of the WHATWG Encoding Standard (`webencodings`) and ignore any
    other. Python knows many more, and a page could name one of them to be read differently by us
    than by its visitors: ``charset=cp037`` (EBCDIC) turned an exchange's page into noise with no
    signal (cleared, while every browser shows it as UTF-8), ``undefined`` made detection raise,
    ``punycode`` took time quadratic in the page before failing, and ``zlib``/``base64`` made
    Scrapy's ``response.text`` raise. Such labels are ignored here, as browsers ignore them. A label
    browsers honour is read as Python reads it (``iso-8859-1`` stays Latin-1), as before; one that
    Python does not know (``x-cp1256``, ``windows-874``) as the standard's encoding for it.
    """
    if not label:
        return None
    label = label.strip().strip("'\"")
    known = webencodings.lookup(label)
    if known is None:
        return None
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return str(known.codec_info.name)


@functools.cache
def _web_codecs() -> frozenset[str]:
    return frozenset(filter(None, map(web_encoding, webencodings.LABELS)))


def is_web_codec(name: str) -> bool:
    """Whether a Python codec name is one a charset label browsers honour can lead to
    (`web_encoding`): what another decoder (Scrapy's) chose from a page can be checked with it."""
    try:
        return codecs.lookup(name).name in _web_codecs()
    except LookupError:
        return False


def decode_body(body: bytes, content_type: str = "") -> tuple[str, str]:
    """(text, encoding used). Never raises; replaces what it cannot decode."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace"), "utf-16"
    candidates: list[str] = []
    declared = _CT_CHARSET.search(content_type or "")
    if declared:
        candidates.append(declared.group(1))
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", errors="ignore"))
    candidates.append("utf-8")
    for name in candidates:
        encoding = web_encoding(name)
        if encoding is None or encoding.startswith("utf-16") or encoding.startswith("utf-32"):
            continue
        try:
            return body.decode(encoding), encoding
        except (UnicodeError, LookupError):
            continue
    # Declared charset lied and it is not UTF-8: keep the declared reading with replacements if
    # there was one, else cp1252 (the usual web default).
    fallback = web_encoding(declared.group(1)) if declared else None
    if fallback and not fallback.startswith(("utf-16", "utf-32")):
        try:
            return body.decode(fallback, errors="replace"), fallback
        except (UnicodeError, LookupError):  # a standard encoding Python has no codec for
            pass
    return body.decode("cp1252", errors="replace"), "cp1252"


# The attribute of an origin (position, attribute) that stands for JSON read from a script rather
# than an attribute: "[window.__NUXT__]#/data/0" or "#/props" (attribute names start with neither;
# "#tail" is told apart first).
_IN_SCRIPT = ("#", "[")

# Where an HTML part came from (`Extracted.origins`), one object per part: the element's position
# in ``root.iter()`` for its text, ``~position`` (negative) for its tail, ``(position, attribute)``
# for an attribute; a str is the locator itself (JSON pointers, located element paths); None: the
# text kind, located by character offset.
Origin = int | tuple[int, str] | str | None


@dataclass
class Extracted:
    """The searchable text of a document plus where each part came from.

    Parts are kept in two parallel lists (text; origin) rather than one object or tuple per part: a
    typical page has thousands of parts, extraction is a hot loop, and fewer container objects
    means less work for the garbage collector on big pages. An origin is an int (a position in the
    tree) where that is enough, so the walk appends two objects per part it already has. Locators
    of HTML parts are built on demand (`locate_all`), only for parts that hold a signal.
    """

    kind: str  # html | json | text
    parts: list[str] = field(default_factory=list)
    # See `Origin`. Positions rather than the elements: a page's thousands of live lxml proxies
    # kept the garbage collector busy (~20% of extraction); the elements are looked up again only
    # for the few parts that hold a signal.
    origins: list[Origin] = field(default_factory=list)
    # (attribute, value, origin): located on demand (`locator_of`), as parts are: a page can carry
    # thousands of sibling elements with a lang attribute, and each locator costs a walk of them.
    langs: list[tuple[str, str, tuple[int, str]]] = field(default_factory=list)
    root: Any = None  # the parsed HTML tree
    # The parts before `drop_repeats` dropped repeated ones: the content digest is of the page as
    # it reads, so a page's digest (and its findings' change history) does not depend on this.
    whole_parts: list[str] | None = None

    def add(self, text: str, origin: Origin) -> None:
        self.parts.append(text)
        self.origins.append(origin)

    @property
    def locators(self) -> list[str | None]:
        """The locators known without the tree (JSON pointers; None where `locate_all` builds one)."""
        return [o if o.__class__ is str else None for o in self.origins]

    def drop_repeats(self) -> Extracted:
        """Keep each distinct part once, at its first place (call before `text` is read).

        A part repeated on a page (the "Trade" link of every market row, one field of every ad in a
        P2P response) adds no evidence its first occurrence does not: signals keep the first
        occurrence of each value. Dropping the repeats removes most of the matches a typical
        exchange page makes the detector look at (bench/detect.py: ~1,300 to ~300).
        """
        # One pass in C (`_parts.first_parts`): each part's first place, with the origin of its first
        # occurrence.
        kept = first_parts(self.parts, self.origins)
        if kept is not None:
            self.whole_parts = self.parts
            self.parts, self.origins = kept
        return self

    @cached_property
    def text(self) -> str:
        # JSON (a page's inline state, an API answer) can hold NUL and lone surrogates ("\\ud800"),
        # which the multi-pattern scan cannot encode (the page went unjudged) and no store can hold:
        # U+FFFD, as browsers show them, code point for code point (offsets into the text hold).
        return storable("\n".join(self.parts))

    def locate_all(self, offsets: list[int]) -> list[str]:
        """The locator of the part holding each of these offsets of `text`.

        The paths of those parts' elements are made in one walk of the tree, in C (`_htmlwalk.paths_at`:
        no proxy for an element passed or found); each offset is placed in its part once
        (`_parts.part_indices`), and the part's origin is replaced by its locator for later calls.
        """
        if self.kind == "text" or not self.parts:
            return [f"char:{offset}" for offset in offsets]
        origins = self.origins
        indices = part_indices(self.parts, offsets)  # in C: no list of where every part starts
        self._find_paths(indices)
        locators = []
        for i in indices:
            locator = origins[i] = self.locator_of(origins[i])
            locators.append(locator)
        return locators

    def locator_of(self, origin: Origin) -> str:
        """The locator an origin (`Origin`) stands for; `storable`, as the text is: a JSON pointer
        names the keys it passes, and a key can hold a lone surrogate (``"a\\ud800"``)."""
        if origin.__class__ is str:
            return storable(origin)  # type: ignore[arg-type]
        if origin is None:
            return ""
        if origin.__class__ is int:
            position, attr = (origin, None) if origin >= 0 else (~origin, "#tail")  # type: ignore[operator]
        else:
            position, attr = origin  # type: ignore[misc]
        return storable(_element_locator(self._path(position), attr))

    def _find_paths(self, indices: list[int]) -> None:
        """Make the paths of these parts' elements in one walk of the tree (into `_found`)."""
        if self.root is None:
            return
        origins, found = self.origins, self._found
        wanted = set()
        for i in indices:
            origin = origins[i]
            if origin.__class__ is int:
                position = origin if origin >= 0 else ~origin  # type: ignore[operator]
            elif origin.__class__ is tuple:
                position = origin[0]  # type: ignore[index]
            else:
                continue
            if position not in found:
                wanted.add(position)
        if not wanted:
            return
        positions = sorted(wanted)
        found.update(zip(positions, _htmlwalk.paths_at(self.root, positions), strict=True))

    def _path(self, position: int) -> str | None:
        """The path of the element at this position (`_htmlwalk.paths_at`), None where there is none."""
        if self.root is None:
            return None
        if position not in self._found:
            # not prepared (a caller locating one offset): one walk for this element alone
            self._found[position] = _htmlwalk.paths_at(self.root, [position])[0]
        return self._found[position]

    @cached_property
    def _found(self) -> dict[int, str | None]:
        return {}

    @property
    def digest_text(self) -> str:
        """The text the content digest is taken of: every part, repeats included."""
        return self.text if self.whole_parts is None else "\n".join(self.whole_parts)

    def digest_source(self) -> bytes:
        """`digest_text` with whitespace runs collapsed, as UTF-8 (`collapsed_utf8`): made from the
        parts in one pass (`_parts.collapsed_join`), without joining them into a text first."""
        if self.whole_parts is not None:
            return collapsed_join(self.whole_parts, False)
        return collapsed_join(self.parts, True)  # what `text` holds: made storable


# ASCII whitespace as str.split() knows it (\t \n \v \f \r, the \x1c-\x1f separators, space) -> space.
_ASCII_WHITESPACE = bytes(c for c in range(128) if chr(c).isspace())
_TO_SPACE = bytes.maketrans(_ASCII_WHITESPACE, b" " * len(_ASCII_WHITESPACE))


def collapsed_utf8(text: str) -> bytes:
    """``" ".join(text.split())`` as UTF-8 (lone surrogates passed): whitespace runs as one space, none at
    the ends.

    An ASCII text (most pages) is collapsed without a string per word: ``translate`` turns its
    whitespace into spaces and ``replace`` halves every run of them per pass, both in C (a typical
    page's ~4,000 words cost ~0.15 ms split and joined, ~0.05 ms so); a run of n spaces takes
    log2(n) passes, each over a text shorter than the last. As bytes: the table is a 256-byte lookup
    and nothing is left to encode for the hash (~0.07 -> ~0.05 ms a typical page).
    """
    if not text.isascii():
        return " ".join(text.split()).encode("utf-8", errors="surrogatepass")
    collapsed = text.encode("ascii").translate(_TO_SPACE)
    while b"  " in collapsed:
        collapsed = collapsed.replace(b"  ", b" ")
    return collapsed.strip(b" ")


class TextDigest:
    """sha256 of the text with whitespace runs collapsed, fed window by window.

    For a single window, the sha256 of `Extracted.digest_text` with whitespace runs collapsed: windows join with a newline, which the
    collapsing turns into the one space between their tokens.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._fed = False

    def update(self, text: str) -> None:
        self._feed(collapsed_utf8(text))

    def feed(self, window: Extracted) -> None:
        """`update` with a window's `Extracted.digest_text`, read from its parts."""
        self._feed(window.digest_source())

    def _feed(self, collapsed: bytes) -> None:
        if not collapsed:
            return
        if self._fed:
            self._hash.update(b" ")
        self._hash.update(collapsed)
        self._fed = True

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _element_locator(path: str | None, attr: str | None) -> str:
    """The locator of an element's part, from the element's path (None: no element, "")."""
    if path is None:
        return ""
    if attr is None:
        return path
    if attr == "#tail":
        return path + "/following-sibling::text()[1]"
    if attr.startswith(_IN_SCRIPT):
        return path + attr  # JSON in a script without an id: "[target]#/pointer" or "#/pointer"
    return f"{path}/@{attr}"


def _walk_json(value: Any, pointer: str, key: str, out: Extracted, prefix: str, depth: int = 0) -> None:
    """Every scalar of a parsed JSON value as a ``key: value`` part located by JSON pointer.

    Depth is capped so hostile nesting cannot recurse away; values below the cap are skipped.
    """
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, (dict, list)):
        _walk_container(value, f"{prefix}#{pointer}", key, depth, out)
    elif value is not None:
        out.add(_scalar_part(key, value), f"{prefix}#{pointer}")


def _scalar_part(key: str, value: Any) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"{key}: {text}" if key else text


def _walk_container(
    container: dict[Any, Any] | list[Any], locator: str, key: str, depth: int, out: Extracted
) -> None:
    # The hot loop of JSON documents, in C (`_jsonwalk`).
    _jsonwalk.walk_container(container, locator, key, depth, MAX_JSON_DEPTH, out.parts, out.origins)


def _json_text(text: str, out: Extracted, prefix: str) -> int:
    """The parts `_walk_json` makes of ``json.loads(text)``, added to ``out`` from the text itself, in
    C (`_jsonwalk.walk_text`: no Python object per key and value; a typical page's JSON script was
    ~0.9M instructions parsed and walked): `_jsonwalk.DONE`; `_jsonwalk.INVALID` where json.loads
    raises ValueError; `_jsonwalk.UNDECIDED` where it leaves the text to json.loads and `_walk_json`
    (nothing added either way)."""
    return _jsonwalk.walk_text(text, prefix, MAX_JSON_DEPTH, out.parts, out.origins)


def _load_json(text: str) -> Any:
    return json.loads(text)


class _Frame:
    """An open JSON container while streaming: its pointer, key, depth and next index or key."""

    __slots__ = ("pointer", "key", "depth", "is_list", "index", "child_key")

    def __init__(self, pointer: str, key: str, depth: int, is_list: bool):
        self.pointer, self.key, self.depth, self.is_list = pointer, key, depth, is_list
        self.index = 0
        self.child_key = ""


def _json_stream_valid(source: bytes) -> bool:
    """Whether ``source`` is one well-formed JSON value (checked in C, nothing kept)."""
    try:
        collections.deque(ijson.basic_parse(io.BytesIO(source), use_float=True), maxlen=0)
    except (ijson.JSONError, ValueError, OverflowError):
        return False
    return True


def _stream_json(source: bytes, window_chars: int = JSON_WINDOW_CHARS) -> Iterator[Extracted]:
    """The parts `_walk_json` would produce, streamed, cut into windows of about ``window_chars``."""
    out = Extracted("json")
    add_part, add_origin = out.parts.append, out.origins.append  # per scalar: no call of out.add
    stack: list[_Frame] = []
    windows = 0
    length = 0
    for event, value in ijson.basic_parse(io.BytesIO(source), use_float=True):
        if event == "map_key":
            stack[-1].child_key = str(value)
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            continue
        if not stack:
            pointer, key, depth = "", "", 0
        else:
            top = stack[-1]
            depth = top.depth + 1
            if top.is_list:
                pointer, key = f"{top.pointer}/{top.index}", top.key
                top.index += 1
            else:
                key = top.child_key
                pointer = f"{top.pointer}/{key.replace('~', '~0').replace('/', '~1')}"
        if event in ("start_map", "start_array"):
            stack.append(_Frame(pointer, key, depth, event == "start_array"))
            continue
        if depth > MAX_JSON_DEPTH or value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        part = f"{key}: {text}" if key else text
        add_part(part)
        add_origin(f"#{pointer}")
        length += len(part) + 1
        if length >= window_chars:
            yield out
            windows += 1
            length = 0
            out = Extracted("json")
            add_part, add_origin = out.parts.append, out.origins.append
    if out.parts or not windows:
        yield out


class Document:
    """A fetched document: the URL it came from, its Content-Type and the raw bytes."""

    __slots__ = ("url", "content_type", "body", "_extracted")

    def __init__(self, url: str, content_type: str, body: bytes):
        self.url = url
        self.content_type = content_type or ""
        if isinstance(body, str):  # convenience for callers holding text already
            body = body.encode("utf-8", errors="surrogatepass")
        self.body = body if isinstance(body, bytes) else bytes(body)
        self._extracted: Extracted | None = None

    def __repr__(self) -> str:
        return f"Document({self.url!r}, {self.content_type!r}, <{len(self.body)} bytes>)"

    @property
    def kind(self) -> str:
        ct = self.content_type.split(";")[0].strip().lower()
        if "json" in ct:
            return "json"
        if "html" in ct or "xml" in ct:
            return "html"
        head = self.body[:512].lstrip()[:200].lower()
        if head.startswith((b"{", b"[")) and ct in ("", "text/plain", "application/octet-stream"):
            return "json"
        if ct in ("", "application/octet-stream", "text/plain") and (
            head.startswith((b"<!doctype", b"<html", b"<head", b"<body")) or b"<html" in head
        ):
            return "html"
        if not ct and re.search(rb"<(?:div|p|a|span|meta|title)\b", self.body[:2048], re.IGNORECASE):
            return "html"
        return "text"

    def extract(self) -> Extracted:
        """The whole searchable text (a JSON body above MAX_JSON_BYTES as plain text: see `windows`)."""
        if self._extracted is None:
            text, _ = decode_body(self.body, self.content_type)
            self._extracted = self._extract(text.replace("\x00", " "))
        return self._extracted

    def html_root(self) -> Any:
        """The parsed tree of an HTML document, as detection read it (shared: leave it as it is); None
        for other documents and for bytes no parser makes a tree of."""
        return self.extract().root if self.kind == "html" else None

    def windows(self) -> Iterator[Extracted]:
        """The searchable text as consecutive windows: one for most documents; a JSON body above
        MAX_JSON_BYTES characters is streamed key by key in windows of JSON_WINDOW_CHARS."""
        if self._extracted is not None or self.kind != "json" or len(self.body) <= MAX_JSON_BYTES:
            yield self.extract()
            return
        text, encoding = decode_body(self.body, self.content_type)
        text = text.replace("\x00", " ")
        if len(text) <= MAX_JSON_BYTES:
            yield self._cache(self._extract(text))
            return
        raw_ok = (
            encoding == "utf-8" and not self.body.startswith(codecs.BOM_UTF8) and b"\x00" not in self.body
        )
        source = self.body if raw_ok else text.encode("utf-8", errors="surrogatepass")
        if not _json_stream_valid(source):
            yield self._cache(self._extract(text))
            return
        del text
        for window in _stream_json(source):
            yield window.drop_repeats()

    def _cache(self, extracted: Extracted) -> Extracted:
        self._extracted = extracted
        return extracted

    def _extract(self, text: str) -> Extracted:
        kind = self.kind
        if kind == "json":
            out = Extracted("json")
            read = _json_text(text, out, "") if len(text) <= MAX_JSON_BYTES else _jsonwalk.INVALID
            if read == _jsonwalk.DONE:
                return out.drop_repeats()
            try:
                data = _load_json(text) if read == _jsonwalk.UNDECIDED else None
            except (ValueError, RecursionError):
                data = None
            if data is not None:
                try:
                    _walk_json(data, "", "", out, "")
                    return out.drop_repeats()
                except RecursionError:
                    out = Extracted("json")
            out.kind = "text"
            out.add(text, None)
            return out
        if kind == "html":
            try:
                return _extract_html(text).drop_repeats()
            except (etree.ParserError, ValueError):
                pass
        out = Extracted("text")
        out.add(text, None)
        return out


# The text is decoded already (`decode_body`, as a browser would: BOM, then the HTTP header, then
# <meta>); the parser reads it back as UTF-8, never re-decoded by a <meta charset> in the page.
_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, recover=True, no_network=True, huge_tree=True, encoding="utf-8"
)


def _extract_html(text: str) -> Extracted:
    out = Extracted("html")
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return out
    root = parse_complete(
        text, lambda markup: etree.fromstring(markup.encode("utf-8", errors="surrogatepass"), _PARSER)
    )
    if root is None:
        return out
    out.root = root
    _htmlwalk.walk(root, out, _meta, _script)
    return out


def _meta(
    position: int,
    prop: str | None,
    name: str | None,
    http_equiv: str | None,
    content: str | None,
    out: Extracted,
) -> None:
    """A <meta> element's part (`_htmlwalk.walk` hands over its attributes as ``el.get`` reads them)."""
    key = (prop or name or http_equiv or "").strip().lower()
    if content and key and (key in _META_KEYS or key.startswith("og:")):
        out.add(f"{key}: {content}", (position, "content"))
        if key in ("og:locale", "og:locale:alternate", "content-language", "language"):
            out.langs.append((key, content.strip(), (position, "content")))


def _script(position: int, type_: str | None, id_: str | None, body: str, out: Extracted) -> None:
    """The parts of a script's JSON or state blobs (`_htmlwalk.walk` hands over its type and id as
    ``el.get`` reads them, and its text when not blank)."""
    script_type = (type_ or "").strip().lower()
    script_id = id_ or ""
    is_json = script_id == "__NEXT_DATA__" or script_type.startswith(_JSON_SCRIPT_TYPES)
    if len(body) > MAX_JSON_BYTES or not (is_json or script_type in _JS_SCRIPT_TYPES):
        return
    # A script without an id is located by its path in the tree, built only for the parts that
    # hold a signal (see `_IN_SCRIPT`): building it for every script cost a walk of its siblings
    # each, time quadratic in a page of thousands of scripts.
    into = out if script_id else Extracted("html")
    prefix = f'//script[@id="{script_id}"]' if script_id else ""
    if not is_json:
        for target, data in state_blobs(body):
            try:
                _walk_json(data, "", "", into, f"{prefix}[{target}]")
            except RecursionError:
                break
    elif _json_text(body, into, prefix) == _jsonwalk.UNDECIDED:
        try:
            data = _load_json(body)
        except (ValueError, RecursionError):
            return
        try:
            _walk_json(data, "", "", into, prefix)
        except RecursionError:
            pass
    if into is not out:
        out.parts += into.parts
        out.origins += [(position, suffix) for suffix in into.origins]


# ---------------------------------------------------------------- inline state blobs

_JS_SCRIPT_TYPES = frozenset(
    {
        "",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "module",
    }
)
# ``window.__INITIAL_STATE__ =``, ``self.__NUXT__=``, ``globalThis["__APOLLO_STATE__"] =`` (not ``==``)
_STATE_ASSIGNMENT = re.compile(
    r"""(?<![\w$.])(window|self|globalThis)\s*(?:\.\s*([A-Za-z_$][\w$]{0,80})|\[\s*(["'])([\w$.-]{1,80})\3\s*\])\s*=(?!=)\s*"""
)
# Next.js (app router) streams its flight data as ``self.__next_f.push([1, "..."])``.
_NEXT_PUSH = re.compile(r"""(?<![\w$.])self\.__next_f\.push\(\s*""")
_JSON_PARSE_CALL = re.compile(r"""JSON\.parse\(\s*""")
_JS_SINGLE_QUOTED = re.compile(r"""'((?:[^'\\\n]|\\.)*)'""", re.DOTALL)
_JS_ESCAPE = re.compile(r"""\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)""", re.DOTALL)
_JSON_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "0": "\0"}
_DECODER = json.JSONDecoder()


def state_blobs(script: str, limit: int = MAX_JSON_BYTES) -> Iterator[tuple[str, Any]]:
    """(assignment target, parsed value) of every inline state blob in a script's text.

    Front ends ship their state as ``window.__INITIAL_STATE__ = {...}`` (Redux), ``window.__NUXT__=
    {...}``, ``window.__APOLLO_STATE__ = JSON.parse("...")`` or ``self.__next_f.push([1, "..."])``
    (Next.js). Values are read as JSON where they parse (an object or array literal, or the string
    given to ``JSON.parse``) and skipped where they are JavaScript (a function call, unquoted
    keys). Scripts longer than ``limit`` characters are not read, as JSON scripts are not.
    """
    if len(script) > limit:
        return
    if "__next_f" in script:
        for m in _NEXT_PUSH.finditer(script):
            value = _json_at(script, m.end())
            if value is not None:
                yield "self.__next_f.push", value
    if "window" not in script and "self" not in script and "globalThis" not in script:
        return
    for m in _STATE_ASSIGNMENT.finditer(script):
        value = _json_at(script, m.end())
        if value is not None:
            yield f"{m.group(1)}.{m.group(2) or m.group(4)}", value


# What a decode that fails near the end of its window may have failed for: a token cut short
# ("-Infinity" is the longest) or a string left open by the cut.
_CUT_MARGIN = 32
_FIRST_WINDOW = 256


def _decode_at(script: str, pos: int, first_window: int = _FIRST_WINDOW) -> Any:
    """``_DECODER.raw_decode(script, pos)[0]`` where an object, an array or a string starts (a number
    could be read cut short), in time proportional to what the decoder reads.

    A failed decode's error counts the lines before ``pos`` (``JSONDecodeError.lineno``): a script of
    "window.a=[" repeated, an assignment every ten characters, cost time quadratic in its length
    (12 s for 800 KB, 20 minutes for the 8 MB a script may hold). The value is decoded from a window
    of the script that starts at ``pos``, four times larger while the decoder failed near the
    window's end (where the cut, not the script, may be the reason): the decoder reads left to right,
    so a value it reads whole in the window, or an error it finds well before the cut, is the same
    in the whole script.
    """
    size = first_window
    while True:
        window = script[pos : pos + size]
        try:
            return _DECODER.raw_decode(window)[0]
        except json.JSONDecodeError as exc:
            cut = exc.pos >= len(window) - _CUT_MARGIN or exc.msg.startswith("Unterminated string")
            if pos + size >= len(script) or not cut:
                raise
        size *= 4


def _json_at(script: str, pos: int) -> Any:
    """The JSON value (an object or array, or a JSON.parse of a string literal) at ``pos``, else None."""
    call = _JSON_PARSE_CALL.match(script, pos)
    try:
        if call is None:
            if script[pos : pos + 1] not in ("{", "["):
                return None
            return _decode_at(script, pos)
        start = call.end()
        if script[start : start + 1] == '"':
            text = _decode_at(script, start)
        else:
            quoted = _JS_SINGLE_QUOTED.match(script, start)
            if quoted is None:
                return None
            text = _JS_ESCAPE.sub(_js_escape, quoted.group(1))
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def _js_escape(m: re.Match[str]) -> str:
    code = m.group(1)
    if code[0] in "xu" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _JSON_ESCAPES.get(code, code)
