"""Signal extractors: extracted text + lexicons -> `SignalHit`s.

One Aho-Corasick pass over the lower-cased joined text (`Lexicons.literals`, see multipattern.py)
finds every literal the lexicons need: the anchors of all vocabulary terms, the pair bases, the
literals rule matches start with and the rules' ``requires`` pre-filter literals. The regexes are
then tried only where those literals start: the vocabulary trie (one-word terms of letters and
digits are mostly decided by the character after them), the pair pattern, and each rule with a
literal start or a literal a bounded distance in (a rule that runs on few pages finds its literals
with one more automaton, shared by the rules of its pre-filter, scanned only then); each finds
exactly what its ``finditer`` over the whole text would (property tests check it). Case-sensitive
tickers and P2P identifiers are checked on the original spelling of each match; when ``lower()``
moves offsets the regexes scan the text instead. A few rules have no such literal (amounts,
landlines) and still scan, when their pre-filter lets them run. Nothing loops over tokens in
Python, so cost is linear in the page size.

Where the time goes (typical 43 KB exchange page, ~19.6M instructions, callgrind per phase,
2026-12-07, after the compiled per-occurrence loops): the lxml parse ~5.0M (25%) and its markup
checks ~0.7M; the automaton passes ~2.1M (the shared contiguous NFA most of it, in Rust); the
content digest ~1.3M (sha256 most of it); the walk of the tree (C, `_htmlwalk`) ~1.3M and the JSON
script ~0.9M; the pairs ~1.1M then (~190 tries of the pair regex, "ht" of every "https" link among
them), ~0.26M since the pattern is decided in C (`_spans.PairScan`); dropping repeated parts ~1.1M;
the vocabulary ~0.9M; rules ~0.8M and their pre-filters ~0.3M (memchr for absent short literals;
rules that begin with a plain literal are tried where memchr finds it, not scanned by re);
locators and the kept signals built ~0.8M, snippets ~0.3M. The loops per candidate and per match are compiled
(`_collect.pyx`, `_spans.pyx`, `_parts.pyx`); what is left is spread over passes that each cost 2-7% of a page.

Per kind at most ``scoring.max_signals_per_kind`` distinct values are kept (the first occurrence of
each value, in document order); a regex rule stops after ``scoring.max_matches_per_rule`` matches in a
document, the vocabulary and pair passes after ``scoring.max_matches_per_pass``. Snippets and locators are built only for the values kept.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.detection._collect import Collector, first_spellings, vocab_firsts, vocab_spans
from scanner.detection._spans import literal_starts, occurs_latin1
from scanner.detection._spans import snippet_at as _snippet_at
from scanner.detection.document import Extracted, TextDigest
from scanner.detection.lexicon import KIND_ORDER, CompiledRule, Lexicons, norm_term
from scanner.detection.multipattern import anchored_finditer, candidate_offsets, candidate_starts, fold_safe
from scanner.detection.shape import strings_table

SNIPPET_CHARS = 200
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\s\-_]+")
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
# A regex try at a literal's occurrence costs about as much as re's scan of this many characters.
_TRY_COST = 40
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SignalHit:
    """One piece of evidence: what was found, the text around it and where."""

    kind: str
    value: str
    snippet: str
    locator: str
    weight: float
    corroborating: bool = False  # counts only next to firm signals of the same judgement
    source: str | None = None  # document URL, set on platform-level (aggregated) analyses

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "value": self.value,
            "snippet": self.snippet,
            "locator": self.locator,
            "weight": self.weight,
        }
        if self.source is not None:
            out["source"] = self.source
        if self.corroborating:
            out["corroborating"] = True
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignalHit:
        return cls(
            kind=data["kind"], value=data["value"], snippet=data.get("snippet", ""), locator=data.get("locator", ""),
            weight=data.get("weight", 0.0), corroborating=data.get("corroborating", False), source=data.get("source"),
        )  # fmt: skip


def snippet_at(text: str, start: int, end: int) -> str:
    """≤ 200 characters around text[start:end], whitespace collapsed (`_spans.snippet_at`)."""
    return _snippet_at(text, start, end, SNIPPET_CHARS)


def iban_pk_valid(raw: str) -> bool:
    iban = raw.replace(" ", "").upper()
    if len(iban) != 24 or not iban.startswith("PK"):
        return False
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


class _Collector(Collector):
    """Signals of one document, at most ``cap`` distinct values per kind.

    The document comes as one extracted text or, for JSON too big to hold at once, as consecutive
    windows (`window`); offsets are document-wide (window base + offset in the window). Values are
    kept as offsets; snippets and locators are built (`materialise`) only for the values still held
    when a window is done: a page yields hundreds of matches but at most ``cap`` values per kind.

    ``add`` (kept: the first occurrence of a value; past ``cap`` values of a kind, a stronger one
    displaces the weakest), ``materialise`` and ``result`` are compiled (`_collect.Collector`).
    """

    def __init__(self, cap: int, limit: int, pass_limit: int):
        super().__init__(cap, limit, pass_limit, SignalHit, KIND_ORDER, _snippet_at, SNIPPET_CHARS)
        self.ex = Extracted("text")
        self.lowered: str | None = ""
        self.strings_table = False  # the current window is a table of interface strings (shape.py)

    def window(self, ex: Extracted, base: int) -> None:
        self.ex, self.base = ex, base
        self.text = ex.text
        lowered = self.text.lower()
        # Matching lower-cased text with a lower-case pattern is much faster than IGNORECASE; only
        # possible when lower() keeps offsets (a few characters, e.g. "İ", change length).
        self.lowered = lowered if len(lowered) == len(self.text) else None
        self.lowered_any = lowered
        self.found: dict[str, list[int]] = {}  # the shared automaton's hits in `lowered_any`

    def budget(self, key: str, limit: int | None = None) -> int:
        return (self.limit if limit is None else limit) - self.spent.get(key, 0)

    def spend(self, key: str, n: int) -> None:
        self.spent[key] = self.spent.get(key, 0) + n

    def add_hit(self, position: int, hit: SignalHit) -> None:
        """A hit that does not come from the text (``lang`` attributes): kept as built."""
        bucket = self.by_kind.setdefault(hit.kind, {})
        if hit.value not in bucket and len(bucket) < self.cap:
            bucket[hit.value] = (position, position, hit.weight, hit.corroborating)
            self.built[(hit.kind, hit.value, position)] = hit


def _exact_key(matched: str) -> str:
    return _WS.sub("", matched).replace("-", "").replace("_", "")


def _vocab_spans(
    lex: Lexicons, lowered: str, found: dict[str, list[int]], limit: int = sys.maxsize
) -> Iterator[tuple[int, int]]:
    """Spans of ``lex.vocab_lower.finditer(lowered)`` (the first ``limit``), tried only where the
    shared automaton found an anchor (``found``), in order and never inside the previous match. Where
    the anchors there are one-word terms of letters and digits, the character after the longest
    decides without the regex unless a longer spelling could go on with it (`Lexicons.vocab_terms`).
    In C (`_collect.vocab_spans`)."""
    assert lex.vocab_lower is not None
    return iter(vocab_spans(lowered, found, lex.vocab_anchors, lex.vocab_terms, lex.vocab_lower.match, limit))


def _vocab(col: _Collector, lex: Lexicons) -> None:
    """All vocabulary in one pass over the lower-cased text, or two passes when lower() moves offsets.

    Within a pass, offsets only grow and a spelling always yields the same entries, so a repeat of
    an already seen spelling cannot change the collector (`_Collector.add` keeps the first
    occurrence): repeats are skipped after counting them against ``limit``.
    """
    ci_map, cs_map = lex.vocab_ci_map or {}, lex.vocab_cs_map or {}
    text = col.text
    if col.lowered is not None and lex.vocab_lower is not None:
        passes = [(lex.vocab_lower, col.lowered, True)]
    else:
        passes = [(lex.vocab_ci, text, False), (lex.vocab_cs, text, None)]
    cs_lower = lex.cs_lower_keys
    embeds = lex.ci_embeds_cs
    add = col.add

    def case_sensitive(start: int, end: int, key: str) -> None:
        if key in cs_lower:
            for entry in cs_map.get(_exact_key(text[start:end]), ()):
                add(entry.kind, entry.value, entry.weight, start, end, entry.corroborating)
        if key in embeds:
            for token in _TOKEN.finditer(text, start, end):
                for entry in cs_map.get(token.group(0), ()):
                    add(
                        entry.kind, entry.value, entry.weight, token.start(), token.end(), entry.corroborating
                    )

    for regex, subject, merged in passes:
        if regex is None:
            continue
        key_name = "vocab" if merged is not None else "vocab_cs"
        limit = col.budget(key_name, col.pass_limit)
        # Counted against the limit, and only the first of each spelling (`_collect.first_spellings`).
        if merged:
            n, firsts = vocab_firsts(
                subject, text, col.found, lex.vocab_anchors, lex.vocab_terms, regex.match, limit
            )
        else:
            n, firsts = first_spellings((m.span() for m in regex.finditer(subject)), text, limit)
        if merged is None:  # the case-sensitive fallback pass
            for start, end in firsts:
                raw = text[start:end]  # the original spelling: case-sensitive entries depend on it
                for entry in cs_map.get(_exact_key(raw), ()):
                    add(entry.kind, entry.value, entry.weight, start, end, entry.corroborating)
        else:
            # norm_term's key of each spelling, its entries added in C (`_collect.Collector.add_vocab`);
            # where the key says so, the original spelling's case-sensitive entries here.
            col.add_vocab(
                firsts, subject, ci_map, cs_lower if merged else _NONE, embeds if merged else _NONE, norm_term,
                case_sensitive,
            )  # fmt: skip
        col.spend(key_name, n)


def _rule_value(rule: CompiledRule, m: re.Match[str], text: str, raw: str, lex: Lexicons) -> str | None:
    """The signal value of one rule match; None when the match fails validation."""
    if rule.validate_as == "iban_pk":
        if not iban_pk_valid(raw):
            return None
        compact = raw.replace(" ", "").upper()
        bank = (lex.iban_banks or {}).get(compact[4:8], "unknown bank")
        return f"{compact[:8]}… ({bank})"
    if rule.value is None:
        return _WS.sub(" ", raw).strip()
    if "{}" in rule.value:
        return rule.value.format(
            *(text[m.start(i) : m.end(i)] if m.start(i) >= 0 else "" for i in range(1, len(m.groups()) + 1))
        )
    return rule.value


def _rule_matches(
    col: _Collector, rule: CompiledRule, subject: str, lazy: dict[Any, Any], limit: int = sys.maxsize
) -> Iterator[re.Match[str]]:
    """``rule.regex.finditer(subject)``: tried only where a prefix literal starts when that is exact,
    or where the literal it begins with starts (then its first ``limit`` matches). ``lazy`` keeps what is computed once per text when a rule
    first needs it."""
    if rule.prefixes and col.lowered is not None:
        if rule.ignore_case and not rule.on_lower and "safe" not in lazy:
            lazy["safe"] = fold_safe(col.text)
        if not (rule.ignore_case and not rule.on_lower) or lazy["safe"]:
            hits = col.found if rule.shared_prefixes else lazy["scan"](rule.prefix_group)
            anchors = candidate_starts(hits, rule.prefixes)
            lo, hi = rule.prefix_offsets
            if rule.scannable and len(anchors) * (hi - lo + 1) * _TRY_COST > len(subject):
                return rule.regex.finditer(subject)  # dense: re's own scan is cheaper than the tries
            return anchored_finditer(rule.regex, subject, candidate_offsets(anchors, lo, hi), limit)
    if rule.lead:
        starts = literal_starts(rule.lead, subject, len(subject) // _TRY_COST)
        if starts is not None:  # one-byte text, not dense: tried where the literal starts
            return anchored_finditer(rule.regex, subject, starts, limit)
    return rule.regex.finditer(subject)


def _passes_prefilter(
    rule: CompiledRule, col: _Collector, in_text: dict[str, bool], probes: frozenset[str]
) -> bool:
    """Whether one of the rule's ``requires`` literals occurs (or it has none)."""
    if not rule.requires:
        return True
    if rule.requires_lower:
        # dict_keys.isdisjoint walks the smaller side; frozenset.isdisjoint(dict) walks every hit
        return not col.found.keys().isdisjoint(rule.requires_indexed) or any(
            _occurs(lit, col.lowered_any) for lit in rule.requires_scan
        )
    # Case-sensitive literals, several rules share some ("@type: "). A probed one the automaton did
    # not find lower-cased is absent; otherwise the text says (`in` stops at the first occurrence).
    for lit in rule.requires:
        present = in_text.get(lit)
        if present is None:
            present = (lit not in probes or lit.lower() in col.found) and _occurs(lit, col.text)
            in_text[lit] = present
        if present:
            return True
    return False


_SEARCHES: dict[str, Any] = {}  # pre-filter literal -> its compiled search (few: the lexicons' literals)


def _occurs(literal: str, text: str) -> bool:
    """``literal in text``. Where both are of one-byte characters (most pages, every ASCII literal)
    with memchr and memcmp (`_spans.occurs_latin1`: an absent "Rs" in a typical page ~0.15M -> ~0.01M
    instructions). Otherwise a literal of several characters is looked for with re's literal search,
    ~3x faster than str's on a page (an absent "Rs" in a 25 kB page: ~7 vs ~22 us); one character
    with ``in`` (memchr), faster still."""
    found = occurs_latin1(literal, text)
    if found is not None:
        return bool(found)
    if len(literal) == 1:
        return literal in text
    search = _SEARCHES.get(literal)
    if search is None:
        search = _SEARCHES[literal] = re.compile(re.escape(literal)).search
    return search(text) is not None


def _group_scanner(col: _Collector, lex: Lexicons, groups: set[frozenset[str]]) -> Any:
    """Hits of the rule groups' literals, scanned once, in one pass of an automaton of the literals
    of the groups whose rules run on this text (`Lexicons.groups_hits`)."""
    hits: list[dict[str, list[int]]] = []

    def scan(group: frozenset[str]) -> dict[str, list[int]]:
        if not hits:
            hits.append(lex.groups_hits(frozenset(groups), col.lowered, col.found))
        return hits[0]

    return scan


def _rules(col: _Collector, lex: Lexicons) -> None:
    text = col.text
    lowered = col.lowered_any
    in_text: dict[str, bool] = {}
    table = col.strings_table  # its keys name labels: no field of API data is read there
    running = [
        rule
        for rule in lex.rules
        if not (table and rule.data_field) and _passes_prefilter(rule, col, in_text, lex.requires_probes)
    ]
    groups = {rule.prefix_group for rule in running if rule.prefixes and not rule.shared_prefixes}
    lazy: dict[Any, Any] = {"scan": _group_scanner(col, lex, groups)}
    for rule in running:
        if rule.on_lower and col.lowered is None:
            continue  # offsets of the lower-cased text would not map back; such texts are rare
        subject = lowered if rule.on_lower else text
        seen: set[object] = set()  # as in _vocab: a repeated match text adds nothing new
        # A value read from groups may come from a look-behind, outside the match text.
        templated = rule.value is not None and "{}" in rule.value
        limit = col.budget(rule.name)
        n = 0
        for m in _rule_matches(col, rule, subject, lazy, max(limit + 1, 1)):
            n += 1
            if n > limit:
                break
            start, end = m.span()
            if rule.left_boundary and start:
                before = subject[start - 1]
                if before.isalnum() or before == "_" or before in rule.left_boundary:
                    continue
            raw = text[start:end]
            key = (raw, m.groups()) if templated else raw
            if key in seen:
                continue
            seen.add(key)
            value = _rule_value(rule, m, text, raw, lex)
            if value is not None:
                col.add(rule.kind, value, rule.weight, start, end, rule.corroborating)
        col.spend(rule.name, n)


def _pair_matches(
    lex: Lexicons, lowered: str, found: dict[str, list[int]], limit: int = sys.maxsize
) -> list[tuple[int, int, str, str]]:
    """``lex.pair_lower.finditer(lowered)`` as (start, end, base, quote), tried only where a base
    starts (``found``: the shared automaton's hits), decided in C (`_spans.PairScan`)."""
    assert lex.pair_scan is not None
    return lex.pair_scan.matches(lowered, found, limit)


# A price next to a pair: after it ("USDT/PKR 289.40", "BTC/PKR: Rs 31,550,000", a market table's
# next cell, "symbol: USDT_PKR price: 290.10"), or right before it ("289.40 USDT/PKR"). Matched at
# the pair's end (one start, bounded repeats: constant work whatever follows), and searched in the
# few characters before its start.
# A year ("BTC/PKR 2024 forecast", "in 2023 BTC/PKR ...") is no price.
_NOT_A_YEAR = r"(?!(?:19|20)\d\d(?![\d.,]))"
_PRICE_AFTER = re.compile(
    r"(?:\s|[:=@|(]){0,8}(?:(?:last\s)?(?:price|rate|buy|sell)\b(?:\s|[:=@]){0,4})?(?:rs\.?|₨|pkr)?\s?"
    + _NOT_A_YEAR
    + r"\d",
    re.IGNORECASE,
)
_PRICE_BEFORE = re.compile(
    r"(?<![\d.,])"
    + _NOT_A_YEAR
    + r"(?:\d[\d,]{2,}|\d\.\d)\d*(?:\.\d+)?\s?(?:rs\.?|₨|pkr)?(?:\s|[:=@|]){0,8}$",
    re.IGNORECASE,
)
_PRICE_BEFORE_CHARS = 24


def _priced(text: str, start: int, end: int) -> bool:
    """Whether a price stands next to the pair at ``text[start:end]``."""
    return (
        _PRICE_AFTER.match(text, end) is not None
        or _PRICE_BEFORE.search(text, max(0, start - _PRICE_BEFORE_CHARS), start) is not None
    )


def _pairs(col: _Collector, lex: Lexicons) -> None:
    if lex.pair_regex is None:
        return
    pairs = lex.crypto.pairs
    pk_quotes = {q.upper() for q in pairs.pk_quotes}
    n = 0
    limit = col.budget("pairs", col.pass_limit)
    matches: Iterable[tuple[int, int, str, str]]
    if col.lowered is not None and lex.pair_scan is not None and lex.pair_prefixes:
        matches = _pair_matches(lex, col.lowered, col.found, max(limit + 1, 1))
    else:
        matches = ((m.start(1), m.end(), m.group(1), m.group(2)) for m in lex.pair_regex.finditer(col.text))
    text = col.text
    # As in _vocab: a repeated spelling adds nothing new (a PKR pair's: priced or not, one of each).
    seen: set[object] = set()
    for start, end, base, quote in matches:  # the base starts the pair
        n += 1
        if n > limit:
            break
        raw = text[start:end]
        if raw in seen:
            continue
        base, quote = base.upper(), quote.upper()
        if quote in pk_quotes:
            # A PKR pair with a price next to it is a quote, a market offered in rupees; named in a
            # sentence ("the BTC/PKR rate is decentralized") or as a bare symbol it is a weaker
            # mention of that market.
            priced = _priced(text, start, end)
            key: object = (raw, priced)
            if key in seen:
                continue
            seen.add(key)
            if priced:
                seen.add(raw)  # a priced spelling: nothing more to learn from its repeats
        else:
            priced = False
            seen.add(raw)
        if base == quote:
            continue
        # Lower-case pairs need a separator ("btc_pkr"); "btcpkr" in prose is too likely a word.
        if raw.islower() and not any(sep in raw for sep in "/_-:"):
            continue
        value = f"{base}/{quote}"
        col.add("trading_pair", value, pairs.weight, start, end)
        if quote in pk_quotes:
            if priced:
                col.add("pkr_market", value, pairs.pkr_weight, start, end)
            else:
                col.add(
                    "pkr_market", f"{value} named (no price next to it)", pairs.pkr_mention_weight, start, end
                )
    col.spend("pairs", n)


def _script(col: _Collector, lex: Lexicons) -> None:
    rules = lex.pakistan.script
    text = col.text
    if text.isascii():  # O(1) in CPython: no script letter can occur
        return
    # The letters are counted in the text's non-ASCII characters only (one C pass to drop the ASCII
    # runs): ~40 counts over a 5 MB page cost more than all its rules otherwise.
    letters_only = _ASCII_RUNS.sub("", text)

    def count(letters: str) -> tuple[int, int]:
        total, first = 0, -1
        for ch in letters:
            c = letters_only.count(ch)
            if c:
                total += c
                pos = text.find(ch)
                first = pos if first < 0 else min(first, pos)
        return total, first

    urdu, first_urdu = count(rules.urdu_letters)
    arabic, _ = count(rules.arabic_only_letters)
    if urdu >= rules.min_letters and arabic <= urdu * rules.max_arabic_ratio:
        col.add("urdu_script", "Urdu", rules.weight, first_urdu, first_urdu + 1)
    for name, letters in (("Pashto", rules.pashto_letters), ("Sindhi", rules.sindhi_letters)):
        if letters:
            found, first = count(letters)
            if found >= rules.min_letters:
                col.add("urdu_script", name, rules.weight, first, first + 1)


def _locale(col: _Collector, ex: Extracted, lex: Lexicons) -> None:
    rules = lex.pakistan.locale
    pk_langs = {code.lower() for code in rules.pk_languages}
    for attr, raw, origin in ex.langs:
        value = raw.strip().lower().replace("_", "-")
        parts = value.split("-")
        language, region = parts[0], parts[-1] if len(parts) > 1 else ""
        if region != rules.pk_region and language not in pk_langs:
            continue
        kind_value = f"{attr}={raw.strip()}"
        kept = col.by_kind.get("pk_locale", {})
        if kind_value in kept or len(kept) >= col.cap:
            continue  # add_hit would not keep it: not located (each locator is a walk of the page)
        locator = ex.locator_of(origin)
        document_level = attr in ("og:locale", "content-language", "language") or locator.startswith(
            "/html/@"
        )
        if region == rules.pk_region:
            weight = rules.document_region_weight if document_level else rules.alternate_region_weight
        else:
            weight = rules.document_language_weight if document_level else rules.alternate_language_weight
        hit = SignalHit("pk_locale", kind_value, f'{attr}="{raw.strip()}"'[:SNIPPET_CHARS], locator, weight)
        col.add_hit(-1, hit)


def _shape(col: _Collector, ex: Extracted) -> None:
    """Whether a window is a table of interface strings (an app's locale file: JSON, Android
    strings.xml, Qt .ts, gettext .po), not API data or a page: said by an ``interface_strings``
    signal at the document root, which the crypto judgement reads."""
    table = strings_table(ex)
    col.strings_table = table is not None
    if table is not None:
        where = {"json": "#", "html": "/"}.get(ex.kind, "char:0")  # the document as a whole
        col.add_hit(-1, SignalHit("interface_strings", "locale strings", table.describe(), where, 0.0))


def extract_signals(ex: Extracted, lex: Lexicons) -> list[SignalHit]:
    """Every signal in an extracted document, in a stable order (kind, then document position)."""
    return scan_windows([ex], lex)


def scan_windows(
    windows: Iterable[Extracted], lex: Lexicons, digest: TextDigest | None = None
) -> list[SignalHit]:
    """Signals of a document given as consecutive windows of its text (one window for most).

    Caps hold document-wide (values per kind, matches per rule); a match spanning two windows is
    not seen. ``digest`` (if given) is fed every window's text.
    """
    sc = lex.scoring
    col = _Collector(sc.max_signals_per_kind, sc.max_matches_per_rule, sc.max_matches_per_pass)
    base = 0
    for ex in windows:
        col.window(ex, base)
        if digest is not None:
            digest.feed(ex)
        _shape(col, ex)
        if col.text:
            # One automaton pass for the literals of every rule and pair (where they start).
            col.found = lex.literals.scan(col.lowered_any) if lex.literals is not None else {}
            _vocab(col, lex)
            _pairs(col, lex)
            _rules(col, lex)
            _script(col, lex)
        _locale(col, ex, lex)
        col.materialise()
        base += len(col.text) + 1  # windows join like parts, with a newline
    return col.result()
