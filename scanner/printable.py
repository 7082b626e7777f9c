"""Text the investigated people wrote, made safe to show and to store.

`visible`: every control and format character written out (``\\x1b``, ``\\u202e``), so that it
cannot drive a terminal (ESC sequences clear the screen, move the cursor, set the clipboard) or
reorder what is shown around it (bidi overrides). Used by the CLI (`scanner.cli._common.shown`) and
for host names in run summaries; `visible_in_page` by the officers' web pages and referral packets.

`storable`: NUL and lone surrogates replaced by U+FFFD. A page's JSON (``"\\ud800"``, ``"\\u0000"``)
or a header can hand us either; PostgreSQL refuses NUL in text, and no UTF-8 (a database, a web page,
a JSON file, a terminal) can hold a lone surrogate. Browsers show both as U+FFFD. The database engine
(`scanner.store.db`) stores every value through it; the evidence keeps the bytes as received.
"""

from __future__ import annotations

import re

# The zero-width non-joiner and joiner are format characters too, but Urdu and Persian words are
# spelt with them (and emoji are joined by them): they neither drive a terminal nor reorder text.
_JOINERS = frozenset("\u200c\u200d")


def visible(text: str) -> str:
    """``text`` with each character that is not printable (a space and the joiners are) written as an
    escape."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " or char in _JOINERS else _escape(char) for char in text
    )


def visible_in_page(text: str) -> str:
    """`visible` for a web page or a printed report, where white space is layout: line breaks, tabs
    and other spaces stay as they are (HTML shows them as spaces, or as lines in a ``<pre>``).

    What reaches officers there (page titles, snippets, the captured text, merchant names, dispute
    reasons) can hold a right-to-left override that shows "moc.live" for "evil.com" and reverses what
    follows it on the line, or zero-width characters that make two different names look alike; each
    is written out (``\\u202e``, ``\\u200b``) as in the CLI.
    """
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(
        char if char.isprintable() or char.isspace() or char in _JOINERS else _escape(char) for char in text
    )


def page_value(value: object) -> object:
    """A template's ``finalize``: every str a page shows goes through `visible_in_page`; markup the
    code built (a ``Markup``, a str subclass) and other values are left to the template."""
    return visible_in_page(value) if type(value) is str else value


# In JSON text from json.dumps(ensure_ascii=False): DEL and every non-ASCII character (C0 controls are
# escaped by json.dumps already; the only raw line breaks are its indentation).
_JSON_CANDIDATES = re.compile("[^\x20-\x7e\n]")


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable() or char in _JOINERS:
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def visible_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with every character `visible` writes out
    given as its JSON escape instead (``\\u202e``, ``\\ud800``): the same document to a parser,
    readable Urdu to a person, and nothing that reorders or hides what a reader sees in an editor.
    A lone surrogate, which has no UTF-8 form, is escaped too."""
    return _JSON_CANDIDATES.sub(_json_escape, text)


REPLACEMENT = "\ufffd"
# One code point for one code point: offsets into the text stay valid.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """Whether ``text`` holds neither NUL nor a lone surrogate (fast for the usual text)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> str:
    """``text`` with each NUL and each surrogate code point replaced by U+FFFD (the same length)."""
    return text if is_storable(text) else _UNSTORABLE.sub(REPLACEMENT, text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
