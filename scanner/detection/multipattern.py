"""One Aho-Corasick pass for the lexicons' literals; regexes run only where it points.

Python's ``re`` finds a pattern that does not start with a plain literal (an alternation, a
look-behind, IGNORECASE) by trying every position of the text, ~20-40 ns a character: a single
rule such as ``\\b(?:usdt|tether|usdc)\\b...`` cost as much as the lxml parse of the page. Most
patterns begin with one of a few literal strings, though, and an automaton finds all of those
in one pass over the text at a few ns a character:

- `literal_prefixes` reads a pattern's parse tree and returns strings one of which every match
  begins with (``usdt``, ``tether``, ``usdc`` above), lower-cased, or None when there is no short
  set of them (a pattern starting with ``\\d`` or ``[+0]``);
- `LiteralScan` is one automaton over all those literals (and the rules' ``requires`` literals);
  one pass over the lower-cased text says which literals occur and where each occurrence starts;
- `anchored_finditer` tries the regex only at those starts, in order, never inside the previous
  match: exactly the matches of ``regex.finditer(subject)``, because every match starts at a
  reported position and ``Pattern.match(subject, pos)`` sees the text before ``pos`` (look-behinds
  and ``\\b`` behave as in a scan). It tries a subset of the positions a scan tries, so it is never
  slower and keeps the linear-time guarantee of the patterns (`lexicon.check_linear`).

Exactness needs the lower-cased text to keep offsets (the caller falls back to a plain scan when
``str.lower`` changes the length), prefix characters that are ASCII or have no case, and, for
IGNORECASE patterns matched on the original text, no ``ı``/``ſ`` in it: ``re`` matches those to
``i``/``s`` case-insensitively while ``str.lower`` keeps them (`fold_safe`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python 3.11+
from typing import Any

from scanner.detection._automaton import Automaton
from scanner.detection._spans import anchored_matches

MAX_PREFIXES = 64
MIN_PREFIX = 2  # shorter prefixes occur everywhere: a scan is cheaper than an attempt at each
# Characters that ``re`` matches case-insensitively to an ASCII letter although ``str.lower``
# does not turn them into it (re._casefix: "ı" ~ "i", "ſ" ~ "s"; "İ" and the Kelvin sign lower-case
# to the letter or change the text's length). tests/detection/test_multipattern.py checks the list.
FOLD_RISK = re.compile("[\u0131\u017f]")

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
if hasattr(sre_parse, "POSSESSIVE_REPEAT"):
    _REPEATS.add(sre_parse.POSSESSIVE_REPEAT)
_ZERO_WIDTH = {sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT}


_FOLD_RISK_CHARS = tuple(FOLD_RISK.pattern[1:-1])  # the class's characters, each found with `in`


def fold_safe(text: str) -> bool:
    """Whether candidates found in ``text.lower()`` cover every IGNORECASE match in ``text``."""
    # `in` finds one character by a fast search (~0.3 ms per MB), the class by re's scan (~4 ms per MB).
    return text.isascii() or not any(ch in text for ch in _FOLD_RISK_CHARS)


def _chars(op: Any, av: Any) -> set[str] | None:
    """The lower-cased characters one LITERAL or IN item matches, or None (a class, a negation,
    too many, a character str.lower could map differently in context)."""
    if op is sre_parse.LITERAL:
        chars = {chr(av)}
    elif op is sre_parse.IN:
        chars = set()
        for item_op, item in av:
            if item_op is sre_parse.LITERAL:
                chars.add(chr(item))
            elif item_op is sre_parse.RANGE and item[1] - item[0] < 16:
                chars.update(map(chr, range(item[0], item[1] + 1)))
            else:
                return None
    else:
        return None
    # The automaton reads the lower-cased text: exact only for characters that str.lower maps one
    # for one whatever the context (ASCII, or no case at all, as Urdu letters).
    if any(not (c.isascii() or c.lower() == c == c.upper()) for c in chars):
        return None
    return {c.lower() for c in chars}


def _sequence(items: Any) -> tuple[set[str], bool] | None:
    """(prefixes, complete): strings one of which a match of ``items`` begins with; complete when
    every match of ``items`` *is* one of them, so what follows may extend them. None: too many."""
    found = _sequence_each(items)
    if found is None:
        return None
    return set(found), all(found.values())


def _sequence_each(items: Any) -> dict[str, bool] | None:
    r"""Prefix -> complete, for each prefix on its own: an alternative that is read to its end
    (``(?<=0)`` or ``0`` before an area code) goes on with what follows while another
    (``92[\s-]?``) stops, so ``[+(0](?:(?<=\+)92[\s-]?|(?<=\()0|(?<=0))(?:21|42)`` begins with
    "+92", "(021", "021", ... rather than with a set that has one-character strings in it."""
    results = {"": True}
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # look-arounds and anchors consume nothing
        if op is sre_parse.SUBPATTERN:
            inner = _sequence_each(av[-1])
        elif op is sre_parse.BRANCH:
            inner = _branch_each(av[1])
        elif op in _REPEATS and av[0] >= 1:
            inner = _sequence_each(av[2])
            if inner is not None and not (av[0] == av[1] == 1):
                inner = dict.fromkeys(inner, False)  # the first repetition starts the match; more may follow
        else:
            chars = _chars(op, av)
            inner = None if chars is None else dict.fromkeys(chars, True)
        if inner is None:
            # too many ways on: what was read so far still starts every match
            return dict.fromkeys(results, False)
        extended: dict[str, bool] = {}
        for r, complete in results.items():
            if not complete:
                extended[r] = extended.get(r, True) and False
                continue
            for piece, piece_complete in inner.items():
                extended[r + piece] = extended.get(r + piece, True) and piece_complete
        if len(extended) > MAX_PREFIXES:
            return None
        results = extended
        if not any(results.values()):
            break
    return results


def _branch(alternatives: Any) -> tuple[set[str], bool] | None:
    found = _branch_each(alternatives)
    if found is None:
        return None
    return set(found), all(found.values())


def _branch_each(alternatives: Any) -> dict[str, bool] | None:
    out: dict[str, bool] = {}
    for alternative in alternatives:
        inner = _sequence_each(alternative)
        if inner is None:
            return None
        for prefix, complete in inner.items():
            out[prefix] = out.get(prefix, True) and complete
    return out


def literal_prefixes(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-cased strings, at least MIN_PREFIX long, one of which every match of ``regex`` starts
    with; None when the pattern has no such small set."""
    return _prefixes_of(list(sre_parse.parse(regex.pattern, regex.flags)))


def _prefixes_of(items: list[Any]) -> tuple[str, ...] | None:
    found = _sequence(items)
    if found is None or not found[0] or any(len(p) < MIN_PREFIX for p in found[0]):
        return None
    prefixes = found[0]
    # "usd" makes "usdt" redundant: every occurrence of the longer one contains the shorter one.
    return tuple(sorted(p for p in prefixes if not any(q != p and p.startswith(q) for q in prefixes)))


MAX_SPREAD = 2  # an anchor found at lo..hi characters into a match costs hi - lo + 1 attempts
MAX_OFFSET_LITERALS = 4  # ... for each occurrence: only a few, selective literals are worth it


def literal_anchor(regex: re.Pattern[str]) -> tuple[tuple[str, ...], int, int] | None:
    r"""(literals, lo, hi): every match of ``regex`` has one of the literals (lower-cased) starting
    lo to hi characters after the match's own start; (prefixes, 0, 0) when `literal_prefixes`
    finds some. For ``[+0](?:(?<=\+)|0)\s?92...`` that is (("92",), 1, 3). None: no such anchor
    (an unbounded or too variable start, or only short or many literals after it)."""
    items = list(sre_parse.parse(regex.pattern, regex.flags))
    lo = hi = 0
    for i, (op, av) in enumerate(items):
        prefixes = _prefixes_of(items[i:])
        if prefixes is not None:
            if hi == 0 or len(prefixes) <= MAX_OFFSET_LITERALS:
                return prefixes, lo, hi
            return None
        width = _width(op, av)
        if width is None:
            return None
        lo, hi = lo + width[0], hi + width[1]
        if hi - lo > MAX_SPREAD:
            return None
    return None


def _width(op: Any, av: Any) -> tuple[int, int] | None:
    """(fewest, most) characters one parsed item consumes; None when unbounded or unknown."""
    if op in _ZERO_WIDTH:
        return 0, 0
    if op in (sre_parse.LITERAL, sre_parse.NOT_LITERAL, sre_parse.IN, sre_parse.ANY):
        return 1, 1
    if op is sre_parse.SUBPATTERN:
        return _widths(av[-1])
    if op is sre_parse.BRANCH:
        widths = [_widths(alternative) for alternative in av[1]]
        if any(w is None for w in widths):
            return None
        return min(w[0] for w in widths if w), max(w[1] for w in widths if w)
    if op in _REPEATS and av[1] != sre_parse.MAXREPEAT:
        inner = _widths(av[2])
        return None if inner is None else (av[0] * inner[0], av[1] * inner[1])
    return None


def _widths(items: Any) -> tuple[int, int] | None:
    lo = hi = 0
    for op, av in items:
        width = _width(op, av)
        if width is None:
            return None
        lo, hi = lo + width[0], hi + width[1]
    return lo, hi


def candidate_offsets(starts: list[int], lo: int, hi: int) -> list[int]:
    """Match starts for anchor occurrences at ``starts`` found lo..hi characters into a match."""
    if lo == hi == 0:
        return starts
    shifted = set().union(*(map((-d).__add__, starts) for d in range(lo, hi + 1)))  # in C
    return sorted(shifted.difference(range(-hi, 0)))


class LiteralScan:
    """Which of many lower-case literals occur in a text and where, in one Aho-Corasick pass.

    The automaton (`_automaton.Automaton`) walks the text's UTF-8 bytes (an ASCII text's in place),
    its shallow states a DFA of at most ``DENSE_BYTES`` of rows and its deep states an NFA, and
    groups the occurrences by literal in the same pass. For the lexicons' ~48,600 literals it holds
    ~4 MB (ahocorasick-rs's contiguous NFA held ~14 MB and its DFA ~13-70 MB more) and walks a
    typical page in ~0.55 M instructions where the contiguous NFA and the grouping of its
    occurrence tuples took ~2.1 M (callgrind, 2026-12-07); a small literal set is a whole DFA.
    Literals of one or two characters that are only needed for presence (``requires: ['0']``) are
    not put in the automaton: they occur on most pages, so ``in`` stops at the first hit while the
    automaton would report every occurrence.
    """

    MIN_INDEXED = 3
    # The dense rows' budget (the rest of the states stay sparse): ~4,400 states of the lexicons'
    # trie, every state of depth <= 4. A larger budget walks a typical page faster only while the
    # rows fit the cache, and holds its size in every process that loads the lexicons.
    DENSE_BYTES = 2_000_000

    def __init__(self, present_literals: Iterable[str], start_literals: Iterable[str] = ()):
        starts = set(start_literals)
        self.indexed = frozenset({lit for lit in present_literals if len(lit) >= self.MIN_INDEXED} | starts)
        self._literals = sorted(self.indexed)
        self._automaton = Automaton(self._literals, self.DENSE_BYTES) if self._literals else None

    def scan(self, text: str) -> dict[str, list[int]]:
        """Every indexed literal that occurs in ``text`` -> start offsets of its occurrences, ascending."""
        if self._automaton is None or not text:
            return {}
        return self._automaton.scan(text)  # type: ignore[no-any-return]

    def present(self, text: str) -> frozenset[str]:
        """The indexed literals that occur in ``text``."""
        return frozenset(self.scan(text))


def candidate_starts(found: dict[str, list[int]], prefixes: Iterable[str]) -> list[int]:
    """Ascending start offsets of the occurrences of any of ``prefixes``."""
    lists = [found[p] for p in prefixes if p in found]
    if len(lists) == 1:
        return lists[0]
    return sorted(set().union(*lists))  # in C: "usd" and "usdt" start at the same places


def anchored_finditer(
    regex: re.Pattern[str], subject: str, starts: Iterable[int], limit: int = sys.maxsize
) -> Iterator[re.Match[str]]:
    """``regex.finditer(subject)`` (its first ``limit`` matches) given ascending, distinct positions
    that include every match's start.

    Matches are never empty here (every match begins with a literal prefix), so after a match the
    scan resumes at its end, as finditer's does: the positions inside it are not tried. The tries
    run in C (`_spans.anchored_matches`): a page padded with near-misses costs one ``match`` call per
    position and no Python per position. A caller that stops after n matches passes ``limit=n``:
    the matches are made before they are read.
    """
    return iter(
        anchored_matches(regex.match, subject, starts if isinstance(starts, list) else list(starts), limit)
    )
