"""Text the investigated people wrote, made safe to show as text: every control and format character
written out (``\\x1b``, ``\\u202e``), so that it cannot drive a terminal (ESC sequences clear the
screen, move the cursor, set the clipboard) or reorder what is shown around it (bidi overrides).
Used by the CLI (`scanner.cli._common.shown`) and for host names in run summaries."""

from __future__ import annotations

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


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
