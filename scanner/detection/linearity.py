"""Which regex rules of the lexicons run in time linear in the text, checked when they are loaded.

A rule is tried at every position of a document (``finditer``) the investigated people wrote, so three
shapes are refused:

- nested unbounded repeats (``(a+)+``): one try can backtrack exponentially;
- unbounded repeats one after the other that read a common character, with only optional items
  between them (``\\s*["']?\\s*x``): one try over a run of that character backtracks through every way
  to share it, quadratic in the run (unless the first is possessive, ``\\s*+``);
- an unbounded repeat that tries from successive starts all read to the same end: each try is linear,
  but ``\\d+x`` tried at every digit of "1111…" reads the rest of the run each time, quadratic in it
  (a page of "a.a.a.a…" took hours per megabyte that way in page identity). A repeat is safe when
  every way to it from the start of a match passes a character the repeat cannot read (``PKR\\s*\\d+``:
  a start inside a run of digits never gets past ``P``, so each run is read from one start), or when
  it ends the pattern (``(?:,\\d{3})+``: a try that reaches it succeeds, and the scan goes on after
  the match).

The check is conservative: it may refuse a linear pattern (``\\w+\\b``), never the other way round for
the shapes above (the common characters of two repeats are looked for among the first 12,288 code
points and the pattern's own characters). Back-references are refused too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _casefix  # type: ignore[attr-defined]  # Python 3.11+
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_UNBOUNDED = sre_parse.MAXREPEAT
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
if hasattr(sre_parse, "POSSESSIVE_REPEAT"):
    _REPEATS.add(sre_parse.POSSESSIVE_REPEAT)
_ASSERTS = (sre_parse.ASSERT, sre_parse.ASSERT_NOT)
_ATOMIC = getattr(sre_parse, "ATOMIC_GROUP", None)
_ENUMERABLE = 512  # a character set with at most this many characters can be an anchor

_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    sre_parse.CATEGORY_DIGIT: str.isdecimal,
    sre_parse.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    sre_parse.CATEGORY_SPACE: str.isspace,
    sre_parse.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre_parse.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre_parse.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


def _has_unbounded(items: Any) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            low, high, sub = arg
            if high == _UNBOUNDED or high > 50:
                return True
            if _has_unbounded(sub):
                return True
        elif op == sre_parse.SUBPATTERN:
            if _has_unbounded(arg[-1]):
                return True
        elif op == sre_parse.BRANCH:
            if any(_has_unbounded(b) for b in arg[1]):
                return True
        elif op in _ASSERTS:
            if _has_unbounded(arg[1]):
                return True
        elif op is _ATOMIC:
            if _has_unbounded(arg):
                return True
    return False


def _check_nested(items: Any) -> None:
    for op, arg in items:
        if op in _REPEATS:
            low, high, sub = arg
            if (high == _UNBOUNDED or high > 50) and _has_unbounded(sub):
                raise ValueError("nested unbounded repetition (can backtrack exponentially)")
            _check_nested(sub)
        elif op == sre_parse.SUBPATTERN:
            _check_nested(arg[-1])
        elif op == sre_parse.BRANCH:
            for b in arg[1]:
                _check_nested(b)
        elif op in _ASSERTS:
            _check_nested(arg[1])
        elif op is _ATOMIC:
            _check_nested(arg)
        elif op in (sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS):
            raise ValueError("back-references are not allowed")


# ---------------------------------------------------------------- every start


def _variants(char: str, ignore_case: bool) -> set[str]:
    """The characters ``char`` stands for in a pattern (its other cases under IGNORECASE)."""
    if not ignore_case:
        return {char}
    out = {char, *(c for c in (char.lower(), char.upper()) if len(c) == 1)}
    for c in list(out):
        out.update(map(chr, _casefix._EXTRA_CASES.get(ord(c), ())))
    return out


def _in_set(char: str, items: Any) -> bool:
    """Whether ``char`` is in the character set of an IN item (case not folded)."""
    negate = False
    found = False
    code = ord(char)
    for op, arg in items:
        if op == sre_parse.NEGATE:
            negate = True
        elif op == sre_parse.LITERAL:
            found = found or code == arg
        elif op == sre_parse.RANGE:
            found = found or arg[0] <= code <= arg[1]
        elif op == sre_parse.CATEGORY:
            found = found or _CATEGORIES.get(arg, lambda c: True)(char)
        else:  # anything unknown: the character may be in it
            found = True
    return found != negate


class _Reads:
    """The characters the items of a repeat's body can read (lookarounds included): a predicate."""

    def __init__(self, items: Any, ignore_case: bool) -> None:
        self.parts: list[tuple[Any, Any, bool]] = []
        self._collect(items, ignore_case)

    def _collect(self, items: Any, ignore_case: bool) -> None:
        for op, arg in items:
            if op in (sre_parse.LITERAL, sre_parse.NOT_LITERAL, sre_parse.IN, sre_parse.ANY):
                self.parts.append((op, arg, ignore_case))
            elif op in _REPEATS:
                self._collect(arg[2], ignore_case)
            elif op == sre_parse.SUBPATTERN:
                self._collect(arg[3], _flags(ignore_case, arg[1], arg[2]))
            elif op == sre_parse.BRANCH:
                for alternative in arg[1]:
                    self._collect(alternative, ignore_case)
            elif op in _ASSERTS:
                self._collect(arg[1], ignore_case)
            elif op is _ATOMIC:
                self._collect(arg, ignore_case)
            elif op != sre_parse.AT:  # a back-reference or anything else: any character
                self.parts.append((sre_parse.ANY, None, False))

    def __contains__(self, char: str) -> bool:
        for op, arg, ignore_case in self.parts:
            chars = _variants(char, ignore_case)
            if op == sre_parse.ANY:
                return True
            if op == sre_parse.LITERAL and ord(char) in {ord(c) for c in _variants(chr(arg), ignore_case)}:
                return True
            if op == sre_parse.NOT_LITERAL and chr(arg) not in chars:
                return True
            if op == sre_parse.IN and any(_in_set(c, arg) for c in chars):
                return True
        return False


def _flags(ignore_case: bool, add: int, remove: int) -> bool:
    if add & re.IGNORECASE:
        return True
    if remove & re.IGNORECASE:
        return False
    return ignore_case


def _set_chars(items: Any) -> set[str] | None:
    """The characters of an IN item when they are few (literals and ranges), else None."""
    chars: set[str] = set()
    for op, arg in items:
        if op == sre_parse.LITERAL:
            chars.add(chr(arg))
        elif op == sre_parse.RANGE and arg[1] - arg[0] < _ENUMERABLE:
            chars.update(map(chr, range(arg[0], arg[1] + 1)))
        else:
            return None
    return chars if len(chars) <= _ENUMERABLE else None


def _anchors(items: Any, reads: _Reads, ignore_case: bool, multiline: bool = False) -> bool:
    """Whether a match of ``items`` must read a character the repeat cannot (``reads``), or pass a
    place only one position of a run of what it reads can be: the start of the text (``^``, ``\\A``;
    of a line when the repeat cannot read a newline)."""
    for op, arg in items:
        if op == sre_parse.AT:
            if arg == sre_parse.AT_BEGINNING_STRING or (
                arg == sre_parse.AT_BEGINNING and (not multiline or "\n" not in reads)
            ):
                return True
            continue
        if op == sre_parse.LITERAL:
            chars: set[str] | None = {chr(arg)}
        elif op == sre_parse.IN:
            chars = _set_chars(arg)
        elif op == sre_parse.SUBPATTERN:
            if _anchors(arg[3], reads, _flags(ignore_case, arg[1], arg[2]), multiline):
                return True
            continue
        elif op is _ATOMIC:
            if _anchors(arg, reads, ignore_case, multiline):
                return True
            continue
        elif op == sre_parse.BRANCH:
            if all(_anchors(alternative, reads, ignore_case, multiline) for alternative in arg[1]):
                return True
            continue
        elif op in _REPEATS:
            if arg[0] >= 1 and _anchors(arg[2], reads, ignore_case, multiline):
                return True
            continue
        else:
            continue
        if chars is not None and not any(v in reads for c in chars for v in _variants(c, ignore_case)):
            return True
    return False


def _run_start(items: Any, i: int) -> bool:
    """Whether ``items[i]``, a repeat of one character set, comes right after a look-behind that refuses
    that set (``(?<!\\s)\\s+``): then only the first position of a run of it gets to the repeat."""
    if i == 0:
        return False
    op, arg = items[i - 1]
    body = list(items[i][1][2])
    return op == sre_parse.ASSERT_NOT and arg[0] == -1 and len(body) == 1 and list(arg[1]) == body


def _check_starts(
    items: Any, ignore_case: bool, before: list[tuple[Any, bool]], tail: bool, multiline: bool
) -> None:
    """Refuse an unbounded repeat in ``items`` that tries from successive starts read to the same end.

    ``before``: the item lists a match reads before ``items`` (with their case mode); ``tail``:
    nothing a match reads after ``items`` can make it fail."""
    for i, (op, arg) in enumerate(items):
        prefix = [*before, (items[:i], ignore_case)]
        last = tail and i == len(items) - 1
        if op in _REPEATS:
            low, high, sub = arg
            if high == _UNBOUNDED and not last and not _run_start(items, i):
                reads = _Reads(sub, ignore_case)
                if not any(_anchors(part, reads, case, multiline) for part, case in prefix):
                    raise ValueError(
                        "an unbounded repeat that a try from every start of a run reads to its end "
                        "(time quadratic in the run): begin the pattern with a character the repeat "
                        "cannot read, or bound the repeat"
                    )
            _check_starts(sub, ignore_case, prefix, last and low <= 1, multiline)
        elif op == sre_parse.SUBPATTERN:
            _check_starts(arg[3], _flags(ignore_case, arg[1], arg[2]), prefix, last, multiline)
        elif op is _ATOMIC:
            _check_starts(arg, ignore_case, prefix, last, multiline)
        elif op == sre_parse.BRANCH:
            for alternative in arg[1]:
                _check_starts(alternative, ignore_case, prefix, last, multiline)
        elif op in _ASSERTS:
            # A look-around's repeat is read in full at every start that gets there, whatever follows.
            _check_starts(arg[1], ignore_case, prefix, False, multiline)


# ---------------------------------------------------------------- adjacent repeats

_PROBES = [chr(c) for c in range(0x3000)]


def _optional(op: Any, arg: Any) -> bool:
    """Whether an item can match the empty string without reading (a repeat of at least none)."""
    return op in (sre_parse.AT, *_ASSERTS) or (op in _REPEATS and arg[0] == 0)


def _unbounded(op: Any, arg: Any) -> bool:
    return op in _REPEATS and (arg[1] == _UNBOUNDED or arg[1] > 50)


def _check_adjacent(items: Any, ignore_case: bool, own: list[str]) -> None:
    """Refuse an unbounded repeat followed, past optional items only, by another that reads one of its
    characters: a try backtracks through every way the two share a run of it."""
    for i, (op, arg) in enumerate(items):
        if _unbounded(op, arg) and op is not getattr(sre_parse, "POSSESSIVE_REPEAT", None):
            first = _Reads(arg[2], ignore_case)
            for later_op, later in items[i + 1 :]:
                if _unbounded(later_op, later):
                    second = _Reads(later[2], ignore_case)
                    if any(c in first and c in second for c in (*own, *_PROBES)):
                        raise ValueError(
                            "two unbounded repeats one after the other read a common character "
                            "(time quadratic in a run of it): make the first possessive (*+, ++) or "
                            "keep them apart"
                        )
                if not _optional(later_op, later):
                    break
        if op in _REPEATS:
            _check_adjacent(arg[2], ignore_case, own)
        elif op == sre_parse.SUBPATTERN:
            _check_adjacent(arg[3], _flags(ignore_case, arg[1], arg[2]), own)
        elif op is _ATOMIC:
            _check_adjacent(arg, ignore_case, own)
        elif op == sre_parse.BRANCH:
            for alternative in arg[1]:
                _check_adjacent(alternative, ignore_case, own)
        elif op in _ASSERTS:
            _check_adjacent(arg[1], ignore_case, own)


def check_linear(pattern: str | bytes, flags: int = 0) -> None:
    """Raise ValueError if ``pattern`` (compiled with ``flags``) does not compile or has a shape that
    takes super-linear time."""
    try:
        parsed = sre_parse.parse(pattern, flags)
        re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"invalid regex ({exc})") from None
    _check_nested(parsed)
    flags = parsed.state.flags
    _check_starts(list(parsed), bool(flags & re.IGNORECASE), [], True, bool(flags & re.MULTILINE))
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    _check_adjacent(list(parsed), bool(flags & re.IGNORECASE), sorted(set(text)))
