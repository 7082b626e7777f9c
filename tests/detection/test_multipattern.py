"""The multi-pattern engine finds exactly what the regexes it stands in for find."""

from __future__ import annotations

import re
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scanner.detection._automaton import Automaton

from scanner.detection.multipattern import (
    FOLD_RISK,
    LiteralScan,
    anchored_finditer,
    candidate_offsets,
    candidate_starts,
    fold_safe,
    literal_anchor,
    literal_prefixes,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of what the rules look for, and of what they must not take: amounts, rates, phones, IBANs,
# schema lines, bylines, P2P fields, with the separators and look-alike characters between them.
PIECES = st.sampled_from(
    [
        "USDT",
        "usdt",
        "Tether",
        "usdc",
        " buy ",
        " sell ",
        "rate",
        "@",
        "=",
        " ",
        "  ",
        "\n",
        "/",
        "-",
        "_",
        ":",
        ".",
        ",",
        "289",
        "292.5",
        "250",
        "330",
        "29",
        "PKR",
        "pkr",
        "Rs",
        "Rs.",
        "₨",
        "/-",
        "روپے",
        "خرید",
        "فروخت",
        "per",
        "+92",
        "0092",
        "92",
        "03",
        "300",
        "1234567",
        "(042)",
        "021",
        "111",
        "12345",
        "-",
        "PK36",
        "SCBL",
        "0000",
        "0011",
        "@type: ",
        "NewsArticle",
        "Product",
        "og:type: ",
        "article",
        "By ",
        "by ",
        "John",
        "Smith",
        " | ",
        "12 Jan",
        "fiat",
        "fiatUnit",
        "quoteCurrency",
        "currency",
        "priceCurrency",
        '"',
        "'",
        "advNo: ",
        "asset: ",
        "coin=",
        "wa.me/",
        "923001234567",
        "apps.apple.com/pk/",
        "play.google.com/store/apps/details?",
        "id=x",
        "&gl=PK",
        "/ur/",
        "/en-pk/",
        "x",
        "1",
        "é",
        "ſ",
        "ı",
        "İ",
        "K",
        "\u00a0",
        "in ",
        "to ",
        "deposit",
        "lakh",
        "crore",
        "rupees",
    ]
)


def test_prefixes_of_alternations_groups_and_look_arounds() -> None:
    assert literal_prefixes(re.compile(r"\b(?:usdt|tether|usdc)\b\d", re.IGNORECASE)) == (
        "tether",
        "usdc",
        "usdt",
    )
    assert literal_prefixes(re.compile(r"(?<![\w$])(?:fiat|fiatUnit)[:=]PKR", re.IGNORECASE)) == (
        "fiat:pkr",
        "fiat=pkr",
        "fiatunit:pkr",
        "fiatunit=pkr",
    )
    assert literal_prefixes(re.compile(r"[Bb](?<!\w[Bb])[yY]\s[A-Z]")) == ("by",)
    assert literal_prefixes(re.compile(r"(?:ab|cd)+x")) == ("ab", "cd")
    assert literal_prefixes(re.compile(r"PK\s?\d{2}")) == ("pk",)
    # no short set of literals: a class, an optional start, a one-character start
    assert literal_prefixes(re.compile(r"\d+PKR")) is None
    assert literal_prefixes(re.compile(r"(?:ab)?cd")) is None
    assert literal_prefixes(re.compile(r"[+0]\s?92")) is None
    assert literal_prefixes(re.compile(r"[a-z]{2}x")) is None
    # an alternative read to its end goes on with what follows while another stops: a landline's
    # "+92", "(0xx", "0xx" rather than a set with one-character strings in it
    landline = re.compile(r"[+(0](?<![\d+][+(0])(?:(?<=\+)92[\s\-]?|(?<=\()0|(?<=0))(?:21|42)\)?\d")
    prefixes = literal_prefixes(landline)
    assert prefixes is not None and {"+92", "(021", "(042", "021", "042"} <= set(prefixes)
    assert all(len(p) >= 3 for p in prefixes)
    text = "+92 211, (021)1, 0421, 10219, 0092 421, +92421, +92-4"
    starts = candidate_starts(LiteralScan((), prefixes).scan(text), prefixes)
    assert (
        [m.span() for m in anchored_finditer(landline, text, starts)]
        == [m.span() for m in landline.finditer(text)]
        != []
    )


def test_anchors_a_bounded_distance_into_the_match() -> None:
    phone = re.compile(r"[+0](?<![\d+][+0])(?:(?<=\+)|0)\s?92[\s\-]?\d{3}")
    assert literal_anchor(phone) == (("92",), 1, 3)
    assert literal_anchor(re.compile(r"(?:usdt|tether)\d")) == (("tether", "usdt"), 0, 0)
    assert literal_anchor(re.compile(r"\d+92")) is None  # unbounded start
    assert literal_anchor(re.compile(r"\d{0,5}92")) is None  # too variable a start
    assert literal_anchor(re.compile(r"\d(?:21|42|51|41|61)")) is None  # many short literals after it
    text = "call +92 300 1234567 or 0092-321-7654321, not 1092 or +920"
    starts = candidate_offsets(candidate_starts(LiteralScan((), ("92",)).scan(text), ("92",)), 1, 3)
    assert [m.span() for m in anchored_finditer(phone, text, starts)] == [
        m.span() for m in phone.finditer(text)
    ]


def test_fold_risk_lists_every_character_re_folds_to_an_ascii_letter_that_lower_does_not() -> None:
    """FOLD_RISK must name every non-ASCII character that an IGNORECASE pattern matches to an ASCII
    letter while str.lower() keeps it different (the automaton reads the lower-cased text)."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    risky = set()
    for code in range(0x80, sys.maxunicode + 1):
        ch = chr(code)
        if (
            letters.fullmatch(ch)
            and not (len(ch.lower()) == 1 and ch.lower().isascii())
            and len(ch.lower()) == 1
        ):
            risky.add(ch)
    assert risky == {ch for ch in risky if FOLD_RISK.fullmatch(ch)}
    assert fold_safe("Buy USDT") and not fold_safe("buy uſdt") and not fold_safe("é ı")
    assert fold_safe("é s i") and fold_safe("")


def test_every_rule_with_prefixes_finds_what_its_regex_finds(lexicons) -> None:  # type: ignore[no-untyped-def]
    """Fixed examples through the rules that run on candidates, as signals.py runs them."""
    text = (
        "USDT buy 289 / sell 292, 1 usdt = 290 PKR, Tether rate: 291. By John Smith | 12 Jan. fiat: PKR, "
        "priceCurrency: PKR, PK36 SCBL 0000 0011 2345 6702, wa.me/923001234567, /ur/ in PKR PKR deposit "
        "خرید 289 روپے advno: 1 asset: usdt"
    )
    used = 0
    for rule in lexicons.rules:
        if not rule.prefixes:
            continue
        used += 1
        _assert_same(rule, text, lexicons)
    assert used >= 8


def _assert_same(rule, text: str, lexicons) -> None:  # type: ignore[no-untyped-def]
    lowered = text.lower()
    if len(lowered) != len(text) or (rule.ignore_case and not rule.on_lower and not fold_safe(text)):
        return  # signals.py scans such texts with the regex itself
    subject = lowered if rule.on_lower else text
    found = lexicons.literals.scan(lowered)
    hits = found if rule.shared_prefixes else lexicons.rule_hits(rule.prefix_group, lowered, found)
    starts = candidate_offsets(candidate_starts(hits, rule.prefixes), *rule.prefix_offsets)
    assert [m.span() for m in anchored_finditer(rule.regex, subject, starts)] == [
        m.span() for m in rule.regex.finditer(subject)
    ], rule.name


@SETTINGS
@given(parts=st.lists(PIECES, max_size=40))
def test_candidate_matching_agrees_with_the_scan_on_random_text(parts: list[str], lexicons) -> None:  # type: ignore[no-untyped-def]
    text = "".join(parts)
    for rule in lexicons.rules:
        if rule.prefixes:
            _assert_same(rule, text, lexicons)


@SETTINGS
@given(
    pattern=st.sampled_from([r"\b(?:ab|ba)\b", r"(?<!a)ab+", r"(?:aa|ab)(?!b)", r"ab[ab]?b", r"(?i)ab"]),
    text=st.text(alphabet="abAB -", max_size=50),
)
def test_anchored_finditer_is_finditer(pattern: str, text: str) -> None:
    regex = re.compile(pattern)
    prefixes = literal_prefixes(regex)
    assert prefixes is not None
    starts = candidate_starts(LiteralScan((), prefixes).scan(text.lower()), prefixes)
    assert [m.span() for m in anchored_finditer(regex, text, starts)] == [
        m.span() for m in regex.finditer(text)
    ]


def test_separator_characters_are_what_the_trie_separator_matches() -> None:
    from scanner.detection.lexicon import SEP_CHARS

    separator = re.compile(r"[\s\-_]")
    assert set(SEP_CHARS) == {chr(c) for c in range(sys.maxunicode + 1) if separator.fullmatch(chr(c))}


def test_vocabulary_on_every_lexicon_spelling_with_every_separator(lexicons) -> None:  # type: ignore[no-untyped-def]
    """Each multi-word spelling of the lexicons, written with zero to four separators of each kind
    between its words and next to other terms, is found exactly as the reference regex finds it."""
    from scanner.detection.lexicon import _SEP, SEP_CHARS
    from scanner.detection.signals import _vocab_spans

    words = [w for w in lexicons.vocab_words if _SEP in w]
    samples = [w.replace(_SEP, " ") for w in lexicons.vocab_words]
    for i, sep in enumerate(SEP_CHARS):
        for count in range(5):
            samples += [w.replace(_SEP, sep * count) for w in words[i % 7 :: 7]]
    text = " ".join(samples)
    found = lexicons.literals.scan(text)
    assert list(_vocab_spans(lexicons, text, found)) == [
        m.span() for m in lexicons.vocab_lower.finditer(text)
    ]


class _Vocabulary:
    """The vocabulary parts of Lexicons, compiled from a given word list (words joined by _SEP)."""

    def __init__(self, words: list[str]) -> None:
        from scanner.detection.lexicon import _trie_regex, _vocab_anchors

        self.vocab_lower = re.compile(r"(?<!\w)" + _trie_regex(sorted(words)) + r"(?!\w)")
        self.vocab_anchors, self.vocab_terms = _vocab_anchors(sorted(words))
        self.literals = LiteralScan((), self.vocab_anchors)


VOCABULARY = _Vocabulary(
    [
        "eth",
        "ethereum",
        "e\x00th\x00x",
        "trade",
        "trade\x00now",
        "ht",
        "htx",
        "http://localhost",
        "crypto",
        "crypto.com",
        "u\x00paisa",
        "🇵🇰",
        "0%\x00fees",
        "1\x00link",
    ]
)


@SETTINGS
@given(
    parts=st.lists(
        st.sampled_from(
            [
                "eth",
                "ereum",
                "e",
                "th",
                "x",
                "trade",
                "now",
                "ht",
                "t",
                "tp://",
                "localhost",
                "crypto",
                ".com",
                "u",
                "paisa",
                "🇵🇰",
                "0%",
                "fees",
                "1",
                "link",
                " ",
                "  ",
                "\n",
                "-",
                "_",
                "\u2003",
                ".",
                "/",
                "a",
            ]
        ),
        max_size=30,
    )
)
def test_vocabulary_decisions_without_the_regex_agree_with_it(parts: list[str]) -> None:
    """Terms inside longer terms, spellings split inside their first word, glued spellings."""
    from scanner.detection.signals import _vocab_spans

    text = "".join(parts)
    found = VOCABULARY.literals.scan(text)
    assert list(_vocab_spans(VOCABULARY, text, found)) == [
        m.span() for m in VOCABULARY.vocab_lower.finditer(text)
    ]


def test_vocabulary_decisions_on_written_examples() -> None:
    from scanner.detection.signals import _vocab_spans

    for text in [
        "eth x",
        "eth-x ethx eth  x",
        "ethereum eth",
        "trade now",
        "trade\nnow",
        "tradenow",
        "https htx",
        "crypto.com",
        "crypto.",
        "u paisa upaisa u-paisa",
        "🇵🇰🇵🇰",
        "0% fees",
        "1link 1 link",
        "eth_x",
    ]:
        found = VOCABULARY.literals.scan(text)
        expected = [m.span() for m in VOCABULARY.vocab_lower.finditer(text)]
        assert list(_vocab_spans(VOCABULARY, text, found)) == expected, text


def _every_occurrence(literals: list[str], text: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for literal in literals:
        at = text.find(literal)
        while at >= 0:
            found.setdefault(literal, []).append(at)
            at = text.find(literal, at + 1)
    return found


def test_the_automaton_finds_every_occurrence_of_every_literal(lexicons) -> None:  # type: ignore[no-untyped-def]
    """Every start of every literal, overlapping ones included, in character offsets: in an ASCII
    text and in one with Urdu, emoji and case-changing characters, whether the automaton's states
    are all sparse but the root's, partly dense or all dense (a DFA)."""
    words = lexicons.vocab_words[::3]
    mixed = (" ".join(words).replace("\x00", " ") + " 🇵🇰 پاکستان jazz cash İstanbul BTC/PKR").lower()
    ascii_only = " ".join(w for w in words if w.isascii()).lower() + " btc/pkr"
    literals = sorted(lexicons.literals.indexed)
    for text in (mixed, ascii_only):
        expected = _every_occurrence(literals, text)
        assert expected
        for dense_bytes in (0, 100_000, 2_000_000, 10**9):
            assert Automaton(literals, dense_bytes).scan(text) == expected


def test_the_automaton_lists_literals_in_the_order_their_first_occurrences_end() -> None:
    """The order ahocorasick-rs reported occurrences in (what the passes read before): by end, and
    at one end the longest literal first, then the ones inside it (its failure chain's)."""
    automaton = Automaton(["abcd", "bcd", "cd", "xbc", "bc"], 0)
    found = automaton.scan("xabcd bc")
    assert list(found.items()) == [("bc", [2, 6]), ("abcd", [1]), ("bcd", [2]), ("cd", [3])]
