"""Lexicons: the detection rules as data (``config/lexicons/*.yaml``), validated and compiled once.

Files (all required, each validated by its own pydantic model with ``extra="forbid"``):

``crypto.yaml``    crypto service phrases, calls to action, assets, pair patterns, P2P JSON keys,
                   Urdu-script crypto vocabulary, Roman-Urdu marketing phrases
``rails.yaml``     Pakistani wallets, instant rails and banks, with spelling variants, P2P platform
                   identifiers (exact, case-sensitive) and IBAN bank codes
``pakistan.yaml``  PKR notation, script letters, cities, country names, CNIC/KYC terms, regulators,
                   locale rules, and regex rules (amounts, phones, IBAN, app-store links, JSON fields)
``context.yaml``   cues that the page is *not* a crypto service: news, shop, bank, broker, regulator
``scoring.yaml``   per-kind caps, thresholds and score scales

Vocabulary terms are literal strings: they are compiled into one trie-shaped regex per case mode, so
matching cost does not grow with the number of terms and cannot backtrack, and into anchors for one
Aho-Corasick automaton (`Lexicons.literals`, built in tens of milliseconds at load) that says where
the regexes need trying. Regex rules written in
the YAML are checked at load (`scanner.detection.linearity`) for nested unbounded repeats (``(a+)+``),
the shape that makes a backtracking engine exponential, and for unbounded repeats that tries from
every start of a run read to its end (``\\d+x``), quadratic; such a rule is a config error.

Adding a wallet brand is a YAML change: add an entry to ``wallets`` in ``rails.yaml``. Other files in
the directory (``p2p_payment_methods.yaml``, read by the pollers) are not read here.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python 3.11+
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scanner.config import ConfigError, parse_model, read_yaml
from scanner.detection._spans import PairScan
from scanner.detection.linearity import check_linear
from scanner.detection.multipattern import LiteralScan, literal_anchor, literal_prefixes

SignalKind = Literal[
    "crypto_service",
    "exchange_operation",
    "crypto_product",
    "crypto_asset",
    "trading_pair",
    "pkr_market",
    "pkr_amount",
    "payment_rail",
    "pk_iban",
    "urdu_script",
    "urdu_crypto_term",
    "roman_urdu",
    "pk_phone",
    "pk_city",
    "pk_country",
    "pk_locale",
    "pk_app_store",
    "cnic_request",
    "regulatory_claim",
    "non_service_context",
    "interface_strings",  # last: verdict.crypto_evidence looks for it at the end of the signals
]
KINDS: tuple[str, ...] = SignalKind.__args__  # type: ignore[attr-defined]
KIND_ORDER = {k: i for i, k in enumerate(KINDS)}  # signals are listed kind by kind, in this order


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(Strict):
    """A vocabulary entry: canonical name, spellings to match, exact platform identifiers."""

    name: str = Field(min_length=1)
    variants: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list, description="exact, case-sensitive tokens")
    weight: float | None = Field(None, ge=0, le=5)
    iban_code: str | None = Field(None, pattern=r"^[A-Z]{4}$")
    corroborating: bool | None = None
    interface_label: bool | None = Field(
        None,
        description="a label every app's interface has (buy, log in, select): not counted in interface strings",
    )
    exchange_product: str | None = Field(
        None,
        description="the crypto exchange product it names (P2P, spot trading, ad posting): "
        "scoring.yaml crypto.min_exchange_products of them together are something crypto",
    )

    @field_validator("variants", "identifiers")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        for v in values:
            if not v or not v.strip():
                raise ValueError("empty spelling")
            if len(v) > 80:
                raise ValueError(f"{v[:20]!r}...: longer than 80 characters")
        return values


def _terms_from_strings(values: Any) -> Any:
    if isinstance(values, list):
        return [{"name": v} if isinstance(v, str) else v for v in values]
    return values


class TermList(Strict):
    """Terms of one kind; an entry is a bare spelling or a `Term` mapping."""

    weight: float = Field(ge=0, le=5)
    corroborating: bool = Field(
        False, description="counts only when other, firm signals of its judgement exist"
    )
    case_sensitive: bool = False
    interface_label: bool = Field(
        False,
        description="the group's terms are labels every app's interface has (a term may say otherwise); "
        "in a table of interface strings (scanner.detection.shape) they are not counted",
    )
    terms: list[Term] = Field(min_length=1)

    _coerce = field_validator("terms", mode="before")(classmethod(lambda cls, v: _terms_from_strings(v)))


class PatternRule(Strict):
    name: str = Field(min_length=1)
    kind: SignalKind
    pattern: str = Field(min_length=1, max_length=600)
    weight: float = Field(ge=0, le=5)
    ignore_case: bool = False
    corroborating: bool = False
    value: str | None = Field(None, description="signal value; default: the matched text, normalised")
    validate_as: Literal["iban_pk"] | None = None
    requires: list[str] = Field(
        default_factory=list,
        description="literal substrings (any one); the rule is skipped on documents without them (a fast pre-filter)",
    )
    own_host: bool = Field(
        False,
        description="url_patterns only: applies when a label of the host is an exchange brand (assets.brands)",
    )
    operating_guide: bool = Field(
        False,
        description="its match makes the document an operating guide for one platform (crypto.yaml): "
        "the context categories of scoring.yaml crypto.guide_uncounted_context are not counted there",
    )

    @model_validator(mode="after")
    def _guide_value(self) -> PatternRule:
        if self.operating_guide and (self.value is None or "{}" in self.value):
            raise ValueError("an operating_guide rule needs a fixed value (the verdict looks it up)")
        return self

    @field_validator("pattern")
    @classmethod
    def _safe(cls, pattern: str) -> str:
        # Checked case-insensitively whether or not the rule is (``ignore_case`` is read after the
        # pattern): a letter's other case is one more character a repeat may read.
        check_linear(pattern, re.IGNORECASE)
        return pattern


class Assets(Strict):
    weight: float = Field(ge=0, le=5)
    tickers: list[str] = Field(min_length=1, description="upper-case symbols, matched case-sensitively")
    names: list[str] = Field(default_factory=list)
    brands: list[str] = Field(
        default_factory=list, description="exchange brands: matched as names, and as a label of the host name"
    )


class Pairs(Strict):
    weight: float = Field(ge=0, le=5)
    pkr_weight: float = Field(ge=0, le=5)
    pkr_mention_weight: float = Field(
        0.5, ge=0, le=5, description="a PKR pair named without a price next to it (prose, a bare symbol)"
    )
    bases: list[str] = Field(min_length=1)
    quotes: list[str] = Field(min_length=1)
    pk_quotes: list[str] = Field(default_factory=lambda: ["PKR"])


class JsonKeys(Strict):
    weight: float = Field(ge=0, le=5)
    keys: list[str] = Field(min_length=1)


class CryptoLexicon(Strict):
    service: TermList
    calls_to_action: TermList
    urdu_calls_to_action: TermList
    roman_urdu_calls_to_action: TermList
    assets: Assets
    asset_fields: list[str] = Field(default_factory=list)
    locale_store_keys: list[str] = Field(
        default_factory=list,
        description="keys of a page's JSON state under which an app ships its locale table (verdict.py)",
    )
    pairs: Pairs
    p2p_json_keys: JsonKeys
    urdu_terms: TermList
    roman_urdu: TermList
    exchange_operations: TermList | None = None
    crypto_products: TermList | None = None
    patterns: list[PatternRule] = Field(
        default_factory=list, description="regex rules, run like pakistan.yaml's"
    )
    url_patterns: list[PatternRule] = Field(
        default_factory=list, description="matched on '//host/path' of the document URL (urlcues.py)"
    )


class RailsLexicon(Strict):
    wallet_weight: float = Field(ge=0, le=5)
    rail_weight: float = Field(ge=0, le=5)
    bank_weight: float = Field(ge=0, le=5)
    wallets: list[Term] = Field(min_length=1)
    rails: list[Term] = Field(default_factory=list)
    banks: list[Term] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> RailsLexicon:
        seen: set[str] = set()
        for group in (self.wallets, self.rails, self.banks):
            for term in group:
                if term.name.lower() in seen:
                    raise ValueError(f"duplicate rail name {term.name!r}")
                seen.add(term.name.lower())
        return self


class ScriptRules(Strict):
    weight: float = Field(ge=0, le=5)
    urdu_letters: str = Field(min_length=1)
    arabic_only_letters: str = ""
    pashto_letters: str = ""
    sindhi_letters: str = ""
    min_letters: int = Field(3, ge=1)
    max_arabic_ratio: float = Field(0.5, ge=0)


class LocaleRules(Strict):
    pk_languages: list[str] = Field(min_length=1, description="ISO 639-1/3 codes of Pakistani languages")
    pk_region: str = "pk"
    document_language_weight: float = Field(ge=0, le=5)
    document_region_weight: float = Field(ge=0, le=5)
    alternate_language_weight: float = Field(ge=0, le=5)
    alternate_region_weight: float = Field(ge=0, le=5)


class PakistanLexicon(Strict):
    currency_names: TermList
    script: ScriptRules
    locale: LocaleRules
    cities: TermList
    country: TermList
    kyc: TermList
    regulators: TermList
    patterns: list[PatternRule] = Field(default_factory=list)


class ContextLexicon(Strict):
    categories: dict[str, TermList] = Field(min_length=1)
    patterns: list[PatternRule] = Field(default_factory=list)
    url_patterns: list[PatternRule] = Field(
        default_factory=list, description="matched on '//host/path' of the document URL (urlcues.py)"
    )


class CryptoScoring(Strict):
    kinds: list[SignalKind]
    offer_kinds: list[SignalKind]
    asset_kinds: list[SignalKind]
    offer_min_weight: float = Field(0.3, ge=0)
    context_factor: float = Field(1.0, ge=0)
    min_exchange_products: int = Field(
        0, ge=0, description="this many distinct exchange products named are something crypto (0: never)"
    )
    guide_uncounted_context: list[str] = Field(
        default_factory=list,
        description="context categories (context.yaml) not counted on an operating guide for one platform",
    )
    table_uncounted_context: list[str] = Field(
        default_factory=list,
        description="context categories (context.yaml) not counted in a table of interface strings",
    )
    threshold: float = Field(gt=0)
    scale: float = Field(2.0, gt=0)
    weights: dict[SignalKind, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="per-kind multipliers fitted by bench/fit_weights.py (1.0 when absent)",
    )


class PakistanScoring(Strict):
    kinds: list[SignalKind]
    corroboration_min: float = Field(0.3, ge=0)
    threshold: float = Field(gt=0)
    weights: dict[SignalKind, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="per-kind multipliers fitted by bench/fit_weights.py (1.0 when absent)",
    )
    scale: float = Field(2.0, gt=0)


class Scoring(Strict):
    max_signals_per_kind: int = Field(12, ge=1, le=1000)
    # A regex rule (amounts, phones, fields) stops after this many matches on one document; the
    # vocabulary and pair passes after max_matches_per_pass (one pass finds every term).
    max_matches_per_rule: int = Field(1000, ge=1)
    max_matches_per_pass: int = Field(5000, ge=1)
    kind_caps: dict[SignalKind, float] = Field(default_factory=dict)
    crypto: CryptoScoring
    pakistan: PakistanScoring
    licensed_score_factor: float = Field(0.1, ge=0, le=1)


# ---------------------------------------------------------------- compiled form

_SEP = "\x00"
_SEP_RE = re.compile(r"[\s\-_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def norm_term(text: str) -> str:
    """Lookup key of a matched term: lower-case, separators removed."""
    return _SEP_RE.sub("", text.lower())


@dataclass(frozen=True, slots=True)
class VocabEntry:
    kind: str
    value: str
    weight: float
    corroborating: bool = False
    interface_label: bool = False


def _trie_regex(words: list[str]) -> str:
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        optional = "" in node
        keys = sorted(k for k in node if k)
        if not keys:
            return ""
        alts = []
        for ch in keys:
            token = r"[\s\-_]{0,3}" if ch == _SEP else re.escape(ch)
            alts.append(token + build(node[ch]))
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if optional:
            body = f"(?:{body})?"
        return body

    return build(trie)


def _spellings(text: str, case_sensitive: bool) -> list[str]:
    forms = {text}
    if not case_sensitive and _CAMEL.search(text):
        forms.add(_CAMEL.sub(" ", text))  # "JazzCash" also as "Jazz Cash"
    out = []
    for form in forms:
        words = [w for w in _SEP_RE.split(form.strip()) if w]
        joined = _SEP.join(w if case_sensitive else w.lower() for w in words)
        if joined:
            out.append(joined)
    return out


# What the trie's separator token ``[\s\-_]`` matches (re's \s is str.isspace, none above U+3000;
# tests/detection/test_multipattern.py checks), and the separators worth spelling out in anchors.
SEP_CHARS = (*(c for c in map(chr, range(0x3001)) if c.isspace()), "-", "_")
_COMMON_SEPS = (" ", "\n")  # between words, and between extracted parts


def _vocab_anchors(words: list[str]) -> tuple[frozenset[str], dict[str, tuple[int, frozenset[str]]]]:
    """(anchors, terms) for the trie regex of ``words`` (spellings, words joined by _SEP).

    Every match starts with an anchor: a one-word spelling itself; for a longer one its first two
    words with no separator between them, its first word and a separator other than a space or
    newline, or its first word, a space or newline and then the second word or another separator. Spelling out
    what follows the first word keeps the automaton from reporting every "order" in a page that
    has the term "order book".

    ``terms`` maps each one-word spelling made of letters and digits to its length and the
    characters that may follow it where a longer spelling of several words goes on: the next letter
    of every such spelling that extends it (without separators), and every separator when one may
    come there inside a spelling's first word ("e th x" extends "eth"; "trade now" has its own
    anchors). A longer one-word spelling ("htx", "http://localhost" after "ht") is an anchor itself:
    where it occurs, its candidate outranks the word's at the same start. Where such a term occurs after a non-word character and is followed by none of
    those, the trie's match there is decided without the regex (see signals._vocab_spans): the
    term if a non-word character follows it (the look-ahead), else nothing. A shorter spelling
    inside it would end before a letter; a longer one would have to go on with a listed character.
    """
    anchors: set[str] = set()
    for word in words:
        first, sep, rest = word.partition(_SEP)
        if not sep:
            anchors.add(word)
            continue
        second = rest.split(_SEP, 1)[0]
        anchors.add(first + second)
        for s in SEP_CHARS:
            if s in _COMMON_SEPS:
                anchors.add(first + s + second)
                anchors.update(first + s + t for t in SEP_CHARS)
            else:
                anchors.add(first + s)
    by_key = sorted((w.replace(_SEP, ""), w) for w in words)
    keys = [key for key, _ in by_key]
    terms: dict[str, tuple[int, frozenset[str]]] = {}
    for word in words:
        if _SEP in word or not word.isalnum():
            continue
        follow: set[str] = set()
        i = bisect.bisect_right(keys, word)  # spellings that extend the word sort right after it
        while i < len(keys) and keys[i].startswith(word):
            key, other = by_key[i]
            i += 1
            if _SEP not in other:
                # One word: an anchor of its own, found where it occurs and ranked above the word
                # there ("htx" over "ht"), so it never goes on from the word's decision ("ht" is
                # followed by the "t" of every "https" link: "http://localhost" needs no regex try there).
                continue
            follow.add(key[len(word)])
            # A separator can go on too, unless the word is the spelling's whole first word: then
            # the spelling's own anchors start there, and the regex decides anyway.
            if _separator_after(other, len(word)) and not other.startswith(word + _SEP):
                follow.update(SEP_CHARS)
        terms[word] = (len(word), frozenset(follow))
    return frozenset(anchors), terms


def _separator_after(spelling: str, letters: int) -> bool:
    """Whether a word separator comes right after the first ``letters`` characters of ``spelling``."""
    for i, ch in enumerate(spelling):
        if ch != _SEP:
            letters -= 1
            if letters == 0:
                return spelling[i + 1 : i + 2] == _SEP
    return False


class _VocabBuilder:
    def __init__(self) -> None:
        self.entries: dict[bool, dict[str, list[VocabEntry]]] = {False: {}, True: {}}
        self.words: dict[bool, set[str]] = {False: set(), True: set()}

    def add(self, spelling: str, entry: VocabEntry, case_sensitive: bool) -> None:
        for form in _spellings(spelling, case_sensitive):
            key = form.replace(_SEP, "") if case_sensitive else norm_term(form.replace(_SEP, " "))
            bucket = self.entries[case_sensitive].setdefault(key, [])
            if not any(e.kind == entry.kind and e.value == entry.value for e in bucket):
                bucket.append(entry)
            self.words[case_sensitive].add(form)

    def add_list(self, kind: str, tl: TermList, value_prefix: str = "") -> None:
        for term in tl.terms:
            t = term
            weight = tl.weight if t.weight is None else t.weight
            corr = tl.corroborating if t.corroborating is None else t.corroborating
            label = tl.interface_label if t.interface_label is None else t.interface_label
            entry = VocabEntry(kind, value_prefix + t.name, weight, corr, label)
            for spelling in [t.name, *t.variants]:
                self.add(spelling, entry, tl.case_sensitive)
            for ident in t.identifiers:
                self.add(ident, entry, True)

    def compile(self, case_sensitive: bool) -> re.Pattern[str] | None:
        words = sorted(self.words[case_sensitive])
        if not words:
            return None
        flags = 0 if case_sensitive else re.IGNORECASE
        return re.compile(r"(?<!\w)" + _trie_regex(words) + r"(?!\w)", flags)


# Kinds of phrase that may name the asset they offer (crypto.yaml's service lists, operations, products).
_ASSET_PHRASE_KINDS = frozenset({"crypto_service", "exchange_operation", "crypto_product"})


def _asset_phrases(vb: _VocabBuilder, assets: Assets) -> frozenset[tuple[str, str]]:
    """(kind, value) of the case-insensitive phrases whose every spelling names an asset, a ticker
    or an exchange brand as a whole word."""
    words = sorted(
        {w.lower() for w in [*assets.names, *assets.brands, *assets.tickers]}, key=len, reverse=True
    )
    names_one = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)").search
    every: dict[tuple[str, str], bool] = {}
    for form in vb.words[False]:
        spelt = form.replace(_SEP, " ")
        named = names_one(spelt.lower()) is not None
        for e in vb.entries[False][norm_term(spelt)]:
            if e.kind in _ASSET_PHRASE_KINDS:
                every[(e.kind, e.value)] = every.get((e.kind, e.value), True) and named
    return frozenset(k for k, named in every.items() if named)


_IGNORECASE = int(re.IGNORECASE)


@dataclass(frozen=True)
class CompiledRule:
    name: str
    kind: str
    regex: re.Pattern[str]
    weight: float
    corroborating: bool
    value: str | None
    validate_as: str | None
    requires: tuple[str, ...] = ()
    requires_lower: bool = False
    # requires_lower literals split for the pre-filter: looked up in Lexicons.literals / scanned with `in`
    requires_indexed: frozenset[str] = frozenset()
    requires_scan: tuple[str, ...] = ()
    on_lower: bool = False  # pattern is lower-case and runs on the lower-cased text
    own_host: bool = False  # URL rules: only on a host whose label is an exchange brand (urlcues.py)
    left_boundary: str = (
        ""  # characters that must not precede a match (checked in Python, not by look-behind)
    )
    # Reads a field of API data (P2P advert keys, asset fields): not run on a table of interface
    # strings (scanner.detection.shape), whose keys name labels ("PaymentMethods": "ادائیگی کے طریقے").
    data_field: bool = False
    # Literals every match starts with (multipattern.literal_prefixes): the regex is tried only where
    # one occurs. Empty: the regex scans the text (it starts with a plain literal, which re finds
    # fast, or has no short set of prefixes). Found by Lexicons.literals, or, when not worth looking
    # for on every page ("in", "25", "currency" for rules that need PKR), by the automaton of the
    # rules with the same pre-filter (Lexicons.rule_literals).
    prefixes: tuple[str, ...] = ()
    shared_prefixes: bool = True  # else found by Lexicons.rule_literals[prefix_group]
    prefix_group: frozenset[str] = frozenset()
    # Where the prefixes sit: lo..hi characters after the start of a match (0, 0: they start it).
    prefix_offsets: tuple[int, int] = (0, 0)
    # The pattern starts with a case-sensitive literal or character set, which re's scan skips to in
    # C: where a rule's literals occur densely (a page padded with "+92"), scanning is cheaper than
    # trying the regex at every occurrence.
    scannable: bool = False
    # The case-sensitive literal every match begins with, for a rule without prefixes ("03", "-",
    # "@type: "): where it is found in C (`_spans.literal_starts`), the regex is tried only there.
    lead: str = ""

    @property
    def ignore_case(self) -> bool:
        # Pattern.flags is an int: ``& re.IGNORECASE`` would go through the enum's Python __and__.
        return bool(self.regex.flags & _IGNORECASE)


def _prefilter(rule: CompiledRule) -> frozenset[str]:
    """A rule's pre-filter literals, lower-cased: rules with the same one run on the same texts."""
    return frozenset(r.lower() for r in rule.requires)


def _scannable(regex: re.Pattern[str]) -> bool:
    parsed = sre_parse.parse(regex.pattern, regex.flags)
    return (
        not regex.flags & re.IGNORECASE and bool(parsed) and parsed[0][0] in (sre_parse.LITERAL, sre_parse.IN)
    )


def _lead_literal(regex: re.Pattern[str]) -> str:
    """The plain literal a case-sensitive pattern starts with ("" for none, or IGNORECASE)."""
    if regex.flags & re.IGNORECASE:
        return ""
    lead = []
    for op, av in sre_parse.parse(regex.pattern, regex.flags):
        if op is not sre_parse.LITERAL:
            break
        lead.append(chr(av))
    return "".join(lead)


def _rule_anchor(regex: re.Pattern[str]) -> tuple[tuple[str, ...], int, int]:
    """Literals to find a rule's candidates by and where they sit in a match (multipattern.
    literal_anchor), or ((), 0, 0) when scanning with the regex is as fast: re finds a pattern that
    starts with a plain (case-sensitive) literal by a fast substring search."""
    parsed = sre_parse.parse(regex.pattern, regex.flags)
    if not regex.flags & re.IGNORECASE and parsed and parsed[0][0] is sre_parse.LITERAL:
        return (), 0, 0
    return literal_anchor(regex) or ((), 0, 0)


MAX_GROUP_SCANS = 64  # automata of sets of rule groups kept (`Lexicons.groups_hits`)


@dataclass(frozen=True)
class Lexicons:
    """All lexicons, validated and compiled: immutable, so every caller and process may share it.
    Build with `load_lexicons`."""

    crypto: CryptoLexicon
    rails: RailsLexicon
    pakistan: PakistanLexicon
    context: ContextLexicon
    scoring: Scoring
    source_dir: Path
    vocab_ci: re.Pattern[str] | None = None
    # One pass over lower-cased text for all vocabulary (2-3x faster than IGNORECASE): the
    # case-insensitive terms plus the lower-cased forms of the case-sensitive ones, whose exact
    # spelling is then checked on the original text (cs_lower_keys says which matches need it).
    vocab_lower: re.Pattern[str] | None = None
    # Literals one of which starts every vocab_lower match (found by `literals`, see _vocab_anchors),
    # and the length of those that decide the match alone (a whole term, no longer term begins so).
    vocab_words: tuple[str, ...] = ()  # the spellings vocab_lower matches, words joined by _SEP
    vocab_anchors: frozenset[str] = frozenset()
    vocab_simple: dict[str, int] = dataclasses.field(default_factory=dict)
    cs_lower_keys: frozenset[str] = frozenset()
    # Keys of case-insensitive phrases that contain a case-sensitive token ("buy usdt" holds USDT):
    # one pass finds the longest match only, so the token is looked up inside the phrase.
    ci_embeds_cs: frozenset[str] = frozenset()
    pair_lower: re.Pattern[str] | None = None
    vocab_cs: re.Pattern[str] | None = None
    vocab_ci_map: dict[str, list[VocabEntry]] | None = None
    vocab_cs_map: dict[str, list[VocabEntry]] | None = None
    rules: tuple[CompiledRule, ...] = ()
    pair_regex: re.Pattern[str] | None = None
    pair_prefixes: tuple[str, ...] = ()  # the bases pair_lower is tried at (found by `literals`)
    pair_scan: PairScan | None = None  # pair_lower decided in C where a base starts (`_spans.PairScan`)
    iban_banks: dict[str, str] | None = None
    # One automaton over the lower-cased text: the pre-filter literals of the rules (most of them
    # are matched lower-cased) and the literals rule matches start with (see CompiledRule.prefixes).
    literals: LiteralScan | None = None
    # The other rules' prefixes: one automaton per pre-filter (rules that run together), scanned
    # only on texts where such a rule runs.
    rule_literals: dict[frozenset[str], LiteralScan] = dataclasses.field(default_factory=dict)
    # The literals of several groups that run on the same text, in one automaton: built on the first
    # text where that set of groups runs (~0.1 ms, a few hundred kB at most), at most
    # MAX_GROUP_SCANS of them. One automaton of every group's literals reported the literals of the
    # groups that did not run too ("25".."32" of the rate rules all over a page of prices).
    group_scans: dict[frozenset[frozenset[str]], LiteralScan | None] = dataclasses.field(default_factory=dict)
    requires_probes: frozenset[str] = (
        frozenset()
    )  # case-sensitive pre-filter literals `literals` finds lower-cased
    rule_literals_shared: frozenset[str] = frozenset()  # their literals `literals` finds (not in the above)
    # Cues in the document URL (scanner.detection.urlcues): path/host rules and exchange brands
    # that are a whole host label ("kucoin" in www.kucoin.com) or, when dotted, the host's ending.
    url_rules: tuple[CompiledRule, ...] = ()
    host_brands: frozenset[str] = frozenset()
    host_brands_dotted: tuple[str, ...] = ()
    # (kind, value) of the vocabulary entries marked interface_label: in a table of interface
    # strings they are labels every app has, not evidence of a service (verdict.crypto_evidence).
    interface_labels: frozenset[tuple[str, str]] = frozenset()
    # (kind, value) of the signals of rules marked operating_guide: the document is an operating guide
    # for one platform (a how-to heading naming one exchange, the exchange's own help centre).
    operating_guides: frozenset[tuple[str, str]] = frozenset()
    # (kind, value) of vocabulary entries naming a crypto exchange's product -> the product.
    exchange_products: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    # (kind, value) of service phrases every spelling of which names an asset ("buy bitcoin"): the
    # phrase says what is crypto even where no asset stands alone ("Buy bitcoin with Easypaisa" on
    # every line of a P2P platform's PKR page, the longer phrase covering each "bitcoin").
    asset_phrases: frozenset[tuple[str, str]] = frozenset()
    # "/<key>/" of crypto.yaml locale_store_keys, looked for in JSON-pointer locators.
    locale_store_markers: tuple[str, ...] = ()

    def rule_hits(
        self, group: frozenset[str], lowered: str, found: dict[str, list[int]]
    ) -> dict[str, list[int]]:
        """Occurrences of the literals of one rule group's automaton in ``lowered``, plus those of
        their literals the shared automaton found (``found``, its hits)."""
        return self.groups_hits(frozenset((group,)), lowered, found)

    def groups_hits(
        self, groups: frozenset[frozenset[str]], lowered: str, found: dict[str, list[int]]
    ) -> dict[str, list[int]]:
        """`rule_hits` of several groups at once: one pass of an automaton of their literals."""
        own = frozenset(g for g in groups if self.rule_literals.get(g) is not None)
        if len(own) == 1:
            scan: LiteralScan | None = self.rule_literals[next(iter(own))]
        else:
            scan = self.group_scans.get(own)
            if scan is None and own:
                scan = LiteralScan((), set().union(*(self.rule_literals[g].indexed for g in own)))
                if len(self.group_scans) < MAX_GROUP_SCANS:
                    self.group_scans[own] = scan
        hits = scan.scan(lowered) if scan is not None else {}
        for literal in self.rule_literals_shared:
            if literal in found:
                hits[literal] = found[literal]
        return hits

    def compile(self) -> Lexicons:
        """The compiled automata and patterns, set once on this frozen object (nothing changes it later)."""

        def built(**fields: object) -> None:
            for name, value in fields.items():
                object.__setattr__(self, name, value)

        vb = _VocabBuilder()
        c = self.crypto
        built(locale_store_markers=tuple(f"/{key}/" for key in c.locale_store_keys))
        # Service phrases and exchange operations (a DEX's swap and pool labels) may name a product.
        product_lists = [
            ("crypto_service", tl)
            for tl in (c.service, c.calls_to_action, c.urdu_calls_to_action, c.roman_urdu_calls_to_action)
        ]
        if c.exchange_operations is not None:
            product_lists.append(("exchange_operation", c.exchange_operations))
        built(
            exchange_products={
                (kind, t.name): t.exchange_product
                for kind, tl in product_lists
                for t in tl.terms
                if t.exchange_product
            }
        )
        vb.add_list("crypto_service", c.service)
        vb.add_list("crypto_service", c.calls_to_action)
        vb.add_list("crypto_service", c.urdu_calls_to_action)
        vb.add_list("crypto_service", c.roman_urdu_calls_to_action)
        vb.add_list("urdu_crypto_term", c.urdu_terms)
        vb.add_list("roman_urdu", c.roman_urdu)
        if c.exchange_operations is not None:
            vb.add_list("exchange_operation", c.exchange_operations)
        if c.crypto_products is not None:
            vb.add_list("crypto_product", c.crypto_products)
        for ticker in c.assets.tickers:
            vb.add(ticker, VocabEntry("crypto_asset", ticker.upper(), c.assets.weight), True)
        for name in [*c.assets.names, *c.assets.brands]:
            vb.add(name, VocabEntry("crypto_asset", name.lower(), c.assets.weight), False)
        built(
            url_rules=tuple(
                CompiledRule(
                    rule.name,
                    rule.kind,
                    re.compile(rule.pattern, re.IGNORECASE if rule.ignore_case else 0),
                    rule.weight,
                    rule.corroborating,
                    rule.value,
                    None,
                    own_host=rule.own_host,
                )
                for rule in [*c.url_patterns, *self.context.url_patterns]
            ),
            host_brands=frozenset(b.lower() for b in c.assets.brands if "." not in b),
            host_brands_dotted=tuple(b.lower() for b in c.assets.brands if "." in b),
        )
        built(
            operating_guides=frozenset(
                (rule.kind, rule.value)
                for rule in [*c.patterns, *c.url_patterns]
                if rule.operating_guide and rule.value is not None
            )
        )
        r = self.rails
        for group, weight in (
            (r.wallets, r.wallet_weight),
            (r.rails, r.rail_weight),
            (r.banks, r.bank_weight),
        ):
            vb.add_list("payment_rail", TermList(weight=weight, terms=list(group)))
        p = self.pakistan
        vb.add_list("pkr_amount", p.currency_names)
        vb.add_list("pk_city", p.cities)
        vb.add_list("pk_country", p.country)
        vb.add_list("cnic_request", p.kyc)
        vb.add_list("regulatory_claim", p.regulators)
        for category in sorted(self.context.categories):
            vb.add_list("non_service_context", self.context.categories[category], f"{category}: ")
        built(vocab_ci=vb.compile(False))
        built(
            interface_labels=frozenset(
                (e.kind, e.value)
                for entries in (*vb.entries[False].values(), *vb.entries[True].values())
                for e in entries
                if e.interface_label
            )
        )
        built(asset_phrases=_asset_phrases(vb, c.assets))
        cs_lower_forms = {w.lower() for w in vb.words[True]}
        built(cs_lower_keys=frozenset(norm_term(w.replace(_SEP, " ")) for w in cs_lower_forms))
        single_tokens = {f for f in cs_lower_forms if _SEP not in f}
        embeds = frozenset(
            norm_term(w.replace(_SEP, " "))
            for w in vb.words[False]
            if _SEP in w and any(part in single_tokens for part in w.split(_SEP))
        )
        built(ci_embeds_cs=embeds)
        merged = sorted(vb.words[False] | cs_lower_forms)
        if merged:
            trie = _trie_regex(merged)
            built(vocab_lower=re.compile(r"(?<!\w)" + trie + r"(?!\w)"))
            # The look-behind would make re try the trie at every position (~40 ns a character):
            # it is tried only where the shared automaton finds one of these literals.
            built(vocab_words=tuple(merged))
            anchors_found, terms_found = _vocab_anchors(merged)
            built(vocab_anchors=anchors_found, vocab_terms=terms_found)
        built(vocab_cs=vb.compile(True))
        built(vocab_ci_map=vb.entries[False])
        built(vocab_cs_map=vb.entries[True])
        rules = []
        for rule in [*c.patterns, *p.patterns, *self.context.patterns]:
            flags = re.IGNORECASE if rule.ignore_case else 0
            requires = tuple(r.lower() if rule.ignore_case else r for r in rule.requires)
            rules.append(
                CompiledRule(
                    rule.name,
                    rule.kind,
                    re.compile(rule.pattern, flags),
                    rule.weight,
                    rule.corroborating,
                    rule.value,
                    rule.validate_as,
                    requires,
                    rule.ignore_case,
                )
            )
        key_alt = "|".join(
            re.escape(k) for k in sorted(set(c.p2p_json_keys.keys), key=lambda k: (-len(k), k))
        )
        # Keys are matched case-insensitively on the lower-cased text, left boundary checked in Python:
        # a leading look-behind would disable the engine's fast literal scan.
        rules.append(
            CompiledRule(
                "p2p_json_keys",
                "crypto_service",
                re.compile(rf"({key_alt.lower()}): "),
                c.p2p_json_keys.weight,
                False,
                "P2P ad field {}",
                None,
                requires=tuple(k.lower() + ": " for k in c.p2p_json_keys.keys),
                requires_lower=True,
                on_lower=True,
                left_boundary="$",
                data_field=True,
            )
        )
        if c.asset_fields:
            fields = "|".join(re.escape(f) for f in sorted(set(c.asset_fields), key=lambda k: (-len(k), k)))
            tickers = "|".join(
                re.escape(t) for t in sorted(set(c.assets.tickers), key=lambda k: (-len(k), k))
            )
            rules.append(
                CompiledRule(
                    "asset_field",
                    "crypto_asset",
                    re.compile(rf"(?:{fields.lower()})[\"']?\s?[:=]\s?[\"']?({tickers.lower()})\b"),
                    c.assets.weight,
                    False,
                    "asset field {}",
                    None,
                    requires=tuple(
                        f"{f.lower()}{sep}" for f in c.asset_fields for sep in (": ", "=", '"', "'")
                    ),
                    requires_lower=True,
                    on_lower=True,
                    left_boundary="$",
                    data_field=True,
                )
            )
        base_list = sorted(set(c.pairs.bases), key=lambda s: (-len(s), s))
        quote_list = sorted(set(c.pairs.quotes), key=lambda s: (-len(s), s))
        bases = "|".join(re.escape(b) for b in base_list)
        quotes = "|".join(re.escape(q) for q in quote_list)
        pair = rf"({bases})\s?[/_\-:]?\s?({quotes})(?![A-Za-z0-9])"
        built(pair_regex=re.compile(r"(?<![A-Za-z0-9])" + pair, re.IGNORECASE))
        pair_lower = pair.replace(bases, bases.lower()).replace(quotes, quotes.lower())
        built(pair_lower=re.compile(r"(?<![A-Za-z0-9])" + pair_lower))
        # The leading look-behind would make re try every position of the text: the pair is tried
        # only where a base starts (found by the shared automaton, as rule prefixes are).
        built(pair_prefixes=literal_prefixes(self.pair_lower) or ())
        built(
            pair_scan=PairScan(
                tuple(b.lower() for b in base_list), tuple(q.lower() for q in quote_list), self.pair_prefixes
            )
        )
        anchors = {rule.name: _rule_anchor(rule.regex) for rule in rules}
        prefixes = {name: anchor[0] for name, anchor in anchors.items()}
        # A rule's literals join the automaton that runs on every page when the rule runs on every
        # page (no pre-filter) or when they are long and the pre-filter looks for them anyway; the
        # others ("currency" or "in" of rules that need PKR) would be reported all over pages where
        # their rule never runs: they go in `rule_literals`, scanned once when one of them runs.
        shared_rules = {
            rule.name
            for rule in rules
            if prefixes[rule.name]
            and (
                not rule.requires
                or (
                    min(map(len, prefixes[rule.name])) >= LiteralScan.MIN_INDEXED
                    and set(prefixes[rule.name]) <= {r.lower() for r in rule.requires}
                )
            )
        }
        shared = {p for name in shared_rules for p in prefixes[name]}
        groups: dict[frozenset[str], set[str]] = {}
        for rule in rules:
            if prefixes[rule.name] and rule.name not in shared_rules:
                groups.setdefault(_prefilter(rule), set()).update(prefixes[rule.name])
        # Some of the other rules' literals join the shared automaton too, found in its pass instead of
        # a second pass over the text (the rule groups' automaton ran on every page of prices, for
        # "92" and the landline codes): those of a rule that runs wherever they occur (its literals
        # are its pre-filter: "92"), and those no ordinary word or price holds ("(021", "+21", "0021",
        # "play.google.com/store/apps/details?"), which cost nothing where their rule does not run.
        # Words and two-digit numbers ("currency", "coin", "25".."32") stay in the groups' automata.
        for rule in rules:
            if prefixes[rule.name] and rule.name not in shared_rules:
                own_requires = {r.lower() for r in rule.requires}
                shared.update(
                    lit
                    for lit in prefixes[rule.name]
                    if lit in own_requires or (len(lit) >= LiteralScan.MIN_INDEXED and not lit.isalpha())
                )
        shared.update(self.pair_prefixes)  # pairs are looked for on every page, short bases ("ht") too
        shared.update(self.vocab_anchors)
        # Case-sensitive pre-filter literals ("PKR", "@type: ", "محترم") are looked for lower-cased by the
        # shared automaton too: where it does not find one, the page lacks it, with no scan of the text
        # (an absent Urdu literal cost a scan of the whole text, ~3 ms on a 5 MB page). ASCII literals
        # and literals without case letters only: the lower-cased page holds them wherever the page does.
        probes = {
            lit
            for rule in rules
            if not rule.requires_lower
            for lit in rule.requires
            if (lit.isascii() or lit.lower() == lit == lit.upper()) and len(lit) >= LiteralScan.MIN_INDEXED
        }
        built(requires_probes=frozenset(probes))
        present = {lit for rule in rules if rule.requires_lower for lit in rule.requires}
        index = LiteralScan(present | {lit.lower() for lit in probes}, shared)
        built(literals=index)
        # What the shared automaton finds already ("pkr", "wa.me/") is taken from its pass, not found twice.
        # Groups whose literals the shared automaton finds already need no automaton of their own.
        built(
            rule_literals={
                group: LiteralScan((), lits - index.indexed)
                for group, lits in groups.items()
                if lits - index.indexed
            }
        )
        every = set().union(*groups.values()) if groups else set()
        built(rule_literals_shared=frozenset(every & index.indexed))
        compiled = tuple(
            dataclasses.replace(
                rule,
                requires_indexed=frozenset(lit for lit in rule.requires if lit in index.indexed),
                requires_scan=tuple(lit for lit in rule.requires if lit not in index.indexed),
                prefixes=prefixes[rule.name],
                shared_prefixes=rule.name in shared_rules,
                prefix_group=_prefilter(rule),
                prefix_offsets=anchors[rule.name][1:],
                scannable=_scannable(rule.regex),
                lead="" if prefixes[rule.name] else _lead_literal(rule.regex),
            )
            for rule in rules
        )
        built(rules=compiled)
        built(iban_banks={b.iban_code: b.name for b in [*r.banks, *r.wallets] if b.iban_code})
        return self


FILES: dict[str, type[BaseModel]] = {
    "crypto.yaml": CryptoLexicon,
    "rails.yaml": RailsLexicon,
    "pakistan.yaml": PakistanLexicon,
    "context.yaml": ContextLexicon,
    "scoring.yaml": Scoring,
}


def load_lexicons(directory: Path | str) -> Lexicons:
    """Load, validate and compile every lexicon file in ``directory``; ConfigError names file and key."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: lexicon directory not found")
    models: dict[str, Any] = {}
    for filename, model in FILES.items():
        path = directory / filename
        models[filename] = parse_model(model, read_yaml(path), path)
    lex = Lexicons(
        crypto=models["crypto.yaml"],
        rails=models["rails.yaml"],
        pakistan=models["pakistan.yaml"],
        context=models["context.yaml"],
        scoring=models["scoring.yaml"],
        source_dir=directory,
    )
    return lex.compile()
