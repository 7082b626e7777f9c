"""The shape of a JSON document: a table of interface strings, or data.

An app's locale file (``ur.json``: ``{"buy": "خریدیں", "login": "لاگ ان کریں", ...}``) and an
exchange's API response (``{"data": [{"adv": {"price": "289.50", "minSingleTransAmount": "5000",
"tradeMethods": [...]}}]}``) are both JSON, read key by key as ``key: value`` parts. They say
different things with the same words:

- in a **table of interface strings** the values are phrases people read (labels, sentences), and
  almost none is a number; its keys name labels, so a key such as ``PaymentMethods`` is the label of
  a payment-methods screen, not a field of an advert; and every app's table has buy, log in, select
  and verification-code labels, which say nothing about what the app offers;
- in **data** (P2P adverts, market lists, tickers) many values are numbers or amounts (prices,
  limits, rates, flags) and the rest are mostly single tokens (``USDT``, ``EasypaisaPK``).

Dev round 8 (bench/realworld/README.md): 26 apps' Urdu locale files have no numeric value at all
(one has 3% of its strings "1:1"-like), every P2P response and market list in dev and the unit
corpus 8% or more. The decision is made on the first ``SAMPLE_CHARS`` of a JSON text with two
regex counts, so it costs the same on a 5 MB response as on a locale file.

Apps ship their strings in other formats too, read the same way (the same shares of numbers and
phrases, over the strings the format holds): Android's ``strings.xml`` (``<resources><string
name="buy">خریدیں</string>``), Qt Linguist's ``.ts`` (``<TS><context><message><source>Buy</source>
<translation>``) and gettext's ``.po`` (``msgid "Buy"`` / ``msgstr "خریدیں"``). Served as XML they are
parsed like markup, and the element under the body says which format it is; served as plain text
(as repositories serve them) the first ``HEAD_CHARS`` say it, and the strings are counted in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from scanner.detection.document import Extracted

SAMPLE_CHARS = 65_536
MIN_STRINGS = 8  # fewer parts say too little about a shape ({"error": "not found"})
MAX_NUMERIC_SHARE = 0.05  # data: 8% or more numeric values in dev; locale files 0-3%
MIN_PHRASE_SHARE = 0.5  # most values of a strings table are phrases, not single tokens

# A part's value (after "key: ") that is a number, an amount, a percentage or a boolean.
_NUMERIC_VALUE = re.compile(r": (?:[-+]?\d[\d.,]*%?|true|false)$", re.M)
# A part's value that is one token of printable ASCII (an id, a ticker, a code): not a phrase.
_TOKEN_VALUE = re.compile(r": [!-~]*$", re.M)


HEAD_CHARS = 2048  # a plain-text locale file says its format within its first lines

# Parts of markup (one a line): a number, an amount, a percentage; one token of printable ASCII.
_NUMERIC_LINE = re.compile(r"^[-+]?\d[\d.,]*%?$", re.M)
_TOKEN_LINE = re.compile(r"^[!-~]*$", re.M)


@dataclass(frozen=True)
class _TextFormat:
    """A locale format as plain text: literals its head holds, and its strings (all, numeric, tokens)."""

    name: str
    head: tuple[str, ...]
    string: re.Pattern[str]
    numeric: re.Pattern[str]
    token: re.Pattern[str]


def _value_patterns(before: str, after: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    # Each try starts at ``before``'s literal and reads no further than the next "<" or line end.
    return (
        re.compile(before + r"[^<\n]*" + after, re.M),
        re.compile(before + r"\s?[-+]?\d[\d.,]*%?\s?" + after, re.M),
        re.compile(before + r"[!-;=-~]*" + after, re.M),
    )


_TEXT_FORMATS = (
    _TextFormat(
        "Android strings.xml",
        ("<resources", "<string"),
        *_value_patterns(r"<string\b[^>\n]{0,200}>", "</string>"),
    ),
    _TextFormat(
        "Qt .ts",
        ("<TS", "<context>"),
        *_value_patterns(r"<translation\b[^>\n]{0,100}>", "</translation>"),
    ),
    _TextFormat(
        "gettext .po",
        ('msgid "', 'msgstr "'),
        *_value_patterns('^msgstr "', '"$'),
    ),
)
# Served as XML, the element under the body says the format (lxml's HTML parser lower-cases tags),
# and the elements that hold its strings (Qt's are the translations; its sources are English).
_MARKUP_FORMATS = {
    "resources": ("Android strings.xml", ("string", "item")),
    "ts": ("Qt .ts", ("translation",)),
}
MARKUP_STRINGS = 2000  # strings sampled from a locale file served as XML


@dataclass(frozen=True)
class StringsTable:
    """A text read as a table of interface strings: its format, how many strings were sampled, and
    how many of them were numeric and how many single tokens (the figures the decision rests on)."""

    strings: int
    numeric: int
    tokens: int
    format: str = "JSON"

    def describe(self) -> str:
        return (
            f"a table of interface strings ({self.format}; {self.strings} strings sampled: {self.numeric} "
            f"numeric, {self.strings - self.tokens} phrases)"
        )


def _table(strings: int, numeric: int, tokens: int, fmt: str) -> StringsTable | None:
    """A table when enough strings are phrases and almost none is a number."""
    if strings < MIN_STRINGS or numeric > strings * MAX_NUMERIC_SHARE:
        return None
    if strings - tokens < strings * MIN_PHRASE_SHARE:
        return None
    return StringsTable(strings, numeric, tokens, fmt)


def strings_table(ex: Extracted) -> StringsTable | None:
    """The table ``ex`` is, or None when it is not an app's table of interface strings."""
    if ex.kind == "json":
        if len(ex.parts) < MIN_STRINGS:
            return None
        text = ex.text
        sample = text[:SAMPLE_CHARS]
        strings = sample.count("\n") + 1 if len(text) > SAMPLE_CHARS else len(ex.parts)
        numeric = len(_NUMERIC_VALUE.findall(sample))
        if numeric > strings * MAX_NUMERIC_SHARE:
            return None
        return _table(strings, numeric, len(_TOKEN_VALUE.findall(sample)), "JSON")
    if ex.kind == "html":
        return _markup_table(ex)
    if ex.kind == "text" and ex.parts:
        return _text_table(ex.text)
    return None


def _markup_table(ex: Extracted) -> StringsTable | None:
    """A locale file served as XML and parsed as markup (the tree detection built): its string
    elements' texts, one a line, counted like the values of a JSON table."""
    root = ex.root
    body = root.find("body") if root is not None else None
    first = body[0] if body is not None and len(body) else None
    found = _MARKUP_FORMATS.get(first.tag) if first is not None and isinstance(first.tag, str) else None
    if found is None:
        return None
    fmt, tags = found
    texts = [(el.text or "").strip() for el in islice(first.iter(*tags), MARKUP_STRINGS)]
    sample = "\n".join(texts)
    numeric = len(_NUMERIC_LINE.findall(sample))
    return _table(len(texts), numeric, len(_TOKEN_LINE.findall(sample)), fmt)


def _text_table(text: str) -> StringsTable | None:
    """A locale file read as plain text (a repository's raw file): told by its head."""
    head = text[:HEAD_CHARS]
    for fmt in _TEXT_FORMATS:
        if not all(literal in head for literal in fmt.head):
            continue
        sample = text[:SAMPLE_CHARS]
        strings = len(fmt.string.findall(sample))
        return _table(strings, len(fmt.numeric.findall(sample)), len(fmt.token.findall(sample)), fmt.name)
    return None
