"""Property tests: any bytes or HTML gives an analysis without raising, and the same one every time."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.detection import Document, analyze

CONTENT_TYPES = st.sampled_from(
    ["text/html", "application/json", "text/plain", "", "text/html; charset=shift_jis", "text/plain; charset=bogus"]
)
WORDS = st.sampled_from(
    ["Buy USDT", "JazzCash", "PKR 5,000", "BTC/PKR", "Rs", "+92 300 1234567", "کرپٹو", "ٹریڈنگ", "<p>", "</div>",
     "<script type='application/json'>{\"fiat\":", "\"PKR\"}</script>", "<meta property='og:title' content='", "'>",
     "&amp;", "\x00", "\ud7ff", "<!--", "-->", "<![CDATA[", "{", "[", "\"", "PK36 SCBL 0000 0011 2345 6702", " "]
)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(doc_args: tuple[str, str, bytes], lexicons, register) -> None:  # type: ignore[no-untyped-def]
    first = analyze(Document(*doc_args), lexicons, register)
    second = analyze(Document(*doc_args), lexicons, register)
    assert first.to_json() == second.to_json()
    assert first.verdict in ("flag", "clear")
    assert 0.0 <= first.score <= 1.0
    for s in first.signals:
        assert len(s.snippet) <= 200


@SETTINGS
@given(body=st.binary(max_size=3000), content_type=CONTENT_TYPES)
def test_arbitrary_bytes(body: bytes, content_type: str, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    _check(("https://prop.test/", content_type, body), lexicons, register)


@SETTINGS
@given(parts=st.lists(st.one_of(WORDS, st.text(max_size=30)), max_size=60), content_type=CONTENT_TYPES)
def test_arbitrary_html_like_text(parts: list[str], content_type: str, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    body = "".join(parts).encode("utf-8", errors="surrogatepass")
    _check(("https://prop.test/", content_type, body), lexicons, register)


@SETTINGS
@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20) | WORDS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10) | WORDS, children, max_size=5),
    max_leaves=40,
))
def test_arbitrary_json(data, lexicons, register) -> None:  # type: ignore[no-untyped-def]
    import json

    body = json.dumps(data).encode()
    _check(("https://prop.test/api", "application/json", body), lexicons, register)


@SETTINGS
@given(literals=st.sets(st.text(alphabet="ab:-", min_size=1, max_size=4), min_size=1, max_size=8),
       text=st.text(alphabet="ab:- ", max_size=60))
def test_literal_index_agrees_with_substring_search(literals: set[str], text: str) -> None:
    """The rule pre-filter's Aho-Corasick index says a literal occurs exactly when ``in`` does, and where."""
    from scanner.detection.multipattern import LiteralScan

    index = LiteralScan(literals)
    assert index.present(text) == {literal for literal in index.indexed if literal in text}
    assert index.indexed == {literal for literal in literals if len(literal) >= LiteralScan.MIN_INDEXED}
    for literal, starts in index.scan(text).items():
        assert starts == [i for i in range(len(text)) if text.startswith(literal, i)]


@SETTINGS
@given(literals=st.sets(st.text(alphabet="aé:ٹ🇵 \t\r\u00a0\u2003", min_size=1, max_size=4), min_size=1, max_size=8),
       text=st.text(alphabet="aé:ٹ🇵 \n\t\r\u00a0\u2003", max_size=60))
def test_literal_index_counts_characters_in_any_script(literals: set[str], text: str) -> None:
    """The automaton reads folded UTF-8 bytes (whitespace but space and newline as a tab): the
    starts it reports in a text of one-, two- and four-byte characters and of several kinds of
    whitespace are the character offsets of each literal as spelled."""
    from scanner.detection.multipattern import LiteralScan

    index = LiteralScan(literals)
    assert index.scan(text) == {
        literal: [i for i in range(len(text)) if text.startswith(literal, i)]
        for literal in index.indexed
        if literal in text
    }


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\u00a0", "\u2028", "\x1c", "\u3000", "."]),
                    max_size=40))
def test_collapse_ws_matches_the_regex(text: str) -> None:
    import re

    from scanner.detection._spans import collapse_ws

    assert collapse_ws(text) == re.sub(r"\s+", " ", text)


@SETTINGS
@given(
    text=st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\u00a0", "é", "."]), min_size=1, max_size=700),
    start=st.integers(0, 700),
    length=st.sampled_from([0, 1, 3, 20, 199, 200, 201, 450]),
)
def test_snippet_is_the_collapsed_context_around_the_match(text: str, start: int, length: int) -> None:
    import re

    from scanner.detection.signals import SNIPPET_CHARS, snippet_at

    start = min(start, len(text))
    end = min(len(text), start + length)
    match_len = min(end - start, SNIPPET_CHARS)
    room = max(0, (SNIPPET_CHARS - match_len) // 2)
    core = re.sub(r"\s+", " ", text[start : start + match_len])
    before = re.sub(r"\s+", " ", text[max(0, start - 2 * room) : start]).lstrip()[-room:] if room else ""
    after = re.sub(r"\s+", " ", text[end : end + 2 * room]).rstrip() if end - start <= SNIPPET_CHARS else ""
    after = after[: SNIPPET_CHARS - len(core) - len(before)]
    assert snippet_at(text, start, end) == (before + core + after)[:SNIPPET_CHARS]

@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\u00a0",
                                              "\u3000", "."]), max_size=60))
def test_content_digest_collapses_whitespace_as_split_and_join(text: str) -> None:
    """The digest's collapsing (ASCII texts without a string per word) is ``" ".join(text.split())``."""
    from scanner.detection.document import collapsed_utf8

    assert collapsed_utf8(text) == " ".join(text.split()).encode()
    ascii_only = text.encode("ascii", errors="ignore").decode()
    assert collapsed_utf8(ascii_only) == " ".join(ascii_only.split()).encode()


_DIGEST_CHARS = ["a", " ", "\n", "\t", "\x1c", "\x00", "é", "\u00a0", "\x85", "\u2003", "\u3000", "\u200b", "ے",
                 "\ud800", "\udfff", "\U0001f1f5"]


@SETTINGS
@given(parts=st.lists(st.text(alphabet=st.sampled_from(_DIGEST_CHARS), max_size=6), max_size=8))
def test_content_digest_of_the_parts_is_the_digest_of_their_text(parts: list[str]) -> None:
    """The digest's bytes are made from the parts without joining them: the same bytes as the
    joined text collapsed (made storable where the text is), whatever the characters' width."""
    from scanner.detection._parts import collapsed_join

    from scanner.detection.document import collapsed_utf8
    from scanner.printable import storable

    joined = "\n".join(parts)
    assert collapsed_join(parts, False) == collapsed_utf8(joined)
    assert collapsed_join(parts, True) == collapsed_utf8(storable(joined))


@SETTINGS
@given(parts=st.lists(st.sampled_from(["btc", "usdt", "pkr", "eth", "/", "_", "-", ":", " ", "\n", "x", "1", "é",
                                       "ht", "usd", "busd", "\u00a0", "\x1c", "\t", "htx", "usdc", "u", "tps", "X", "ٹ", "\u2003"]),
                      max_size=30))
def test_pair_scan_finds_the_same_pairs_as_the_look_behind_regex(parts: list[str], lexicons) -> None:  # type: ignore[no-untyped-def]
    """The pair scan tried only where the automaton finds a base agrees with the reference regex."""
    from scanner.detection.signals import _pair_matches

    text = "".join(parts)
    assert lexicons.pair_prefixes
    expected = [(m.start(1), m.end(), m.groups()) for m in lexicons.pair_lower.finditer(text)]
    found = lexicons.literals.scan(text)
    assert [(start, end, (base, quote)) for start, end, base, quote in _pair_matches(lexicons, text, found)] == expected


@SETTINGS
@given(parts=st.lists(st.sampled_from(["buy", "usdt", "🇵🇰", "pakistan", "jazz", "cash", "p2p", "trading", " ", "\n",
                                       "-", "_", ".", "x", "0% fees", "1link", "é", "کرپٹو", "order", "book", "u",
                                       "paisa", "\u2003", "\x1c", "  ", "eth", "ethereum", "ht", "crypto", ".com", "htx", "trade",
                                       "https", "_usdt", "now", "pkr"]),
                      max_size=30))
def test_vocabulary_scan_finds_the_same_terms_as_the_look_behind_regex(parts: list[str], lexicons) -> None:  # type: ignore[no-untyped-def]
    """The vocabulary tried only at the automaton's anchors agrees with the reference regex, flags next
    to each other, unusual separators and terms inside longer terms included."""
    from scanner.detection.signals import _vocab_spans

    text = "".join(parts)
    found = lexicons.literals.scan(text)
    assert list(_vocab_spans(lexicons, text, found)) == [m.span() for m in lexicons.vocab_lower.finditer(text)]


@SETTINGS
@given(
    parts=st.lists(st.text(alphabet="ab\n", max_size=6), min_size=1, max_size=12),
    offsets=st.lists(st.integers(-2, 90), max_size=8),
)
def test_part_of_an_offset_is_the_last_part_starting_at_or_before_it(parts: list[str], offsets: list[int]) -> None:
    """A signal's locator is its part's: the part of an offset is found without a list of where every
    part starts (parts join with one newline; a part may hold newlines itself)."""
    from bisect import bisect_right

    from scanner.detection._parts import part_indices

    starts = [0]
    for part in parts:
        starts.append(starts[-1] + len(part) + 1)
    assert part_indices(parts, offsets) == [max(0, bisect_right(starts, offset) - 1) for offset in offsets]


@SETTINGS
@given(parts=st.lists(st.sampled_from(["Trade", "BTC/USDT", "", "trade", "é", "Trade ", "ے", "🇵🇰", "é "]), max_size=12))
def test_repeated_parts_are_kept_once_with_their_first_origin(parts: list[str]) -> None:
    """A part repeated on a page (the "Trade" link of every market row) is kept at its first place,
    located where it first occurs."""
    from scanner.detection._parts import first_parts

    origins = list(range(len(parts)))
    first: dict[str, int] = {}
    for part, origin in zip(parts, origins, strict=True):
        first.setdefault(part, origin)
    kept = first_parts(parts, origins)
    if len(first) == len(parts):
        assert kept is None
    else:
        assert kept == (list(first), list(first.values()))


@SETTINGS
@given(literal=st.text(alphabet="aRs/-PKé\u00ff", max_size=3), text=st.text(alphabet="aRs/-PKé\u00ff ", max_size=40))
def test_prefilter_literal_search_is_in(literal: str, text: str) -> None:
    """A rule's pre-filter literal ("Rs", "PK", "/-") is found exactly where ``in`` finds it."""
    from scanner.detection.signals import _occurs

    assert _occurs(literal, text) == (literal in text)
    assert _occurs(literal + "ٹ", text + "ٹ") == (literal + "ٹ" in text + "ٹ")  # two-byte characters: re


@SETTINGS
@given(
    literal=st.text(alphabet="0-3kpé\u00ff", min_size=1, max_size=3),
    text=st.text(alphabet="0-3kpé\u00ff ", max_size=40),
    cap=st.integers(0, 12),
)
def test_lead_literal_starts_are_every_occurrence(literal: str, text: str, cap: int) -> None:
    """Where a rule's leading literal ("03", "-") starts: every occurrence, overlapping ones too,
    or None past the cap (the rule then scans) and for texts of wider characters."""
    from scanner.detection._spans import literal_starts

    expected = [i for i in range(len(text)) if text.startswith(literal, i)]
    assert literal_starts(literal, text, cap) == (expected if len(expected) <= cap else None)
    assert literal_starts(literal, text + "ٹ", cap) is None


_MARKUP_PIECES = ["<div>", "</div>", "<p>", "</p>", "<a href='#x'>", "<a href='/y' title=' t '>", "</a>", "<td>", "<tr>",
                  "<table>", "</table>", "<svg><text>x</text></svg>", "<math><mi>x</mi></math>", "<é>", "<x:y>", "</x:y>",
                  "<br>", "<img alt='\u00a0'>", "<button value='v'>", "text", " ", "<script>var a;</script>", "<!-- c -->",
                  "<?pi x?>", "&amp;", "<html>", "<body>", "<head>"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.sampled_from(_MARKUP_PIECES), max_size=40))
def test_element_paths_are_lxml_getpath(pieces: list[str]) -> None:
    """`_htmlwalk.paths_at` writes the path ``getroottree().getpath(el)`` gives, for every element."""
    from lxml import etree

    from scanner.detection import _htmlwalk
    from scanner.detection.document import _PARSER

    try:
        root = etree.fromstring(("<html><body>" + "".join(pieces)).encode(), _PARSER)
    except etree.XMLSyntaxError:
        return
    if root is None:
        return
    elements = list(root.iter())
    expected = [el.getroottree().getpath(el) for el in elements]
    assert _htmlwalk.paths_at(root, list(range(len(elements) + 1))) == [*expected, None]


def _parts_of_loaded_json(text: str, prefix: str) -> tuple[bool, list[str], list[object]]:
    """(parsed, parts, origins) as extraction made them before JSON was read in place: json.loads
    and the walk of what it made."""
    import json

    from scanner.detection.document import Extracted, _walk_json

    out = Extracted("json")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False, [], []
    _walk_json(data, "", "", out, prefix)
    return True, out.parts, out.origins


def _check_json_text(text: str, prefix: str = '//script[@id="__NEXT_DATA__"]') -> None:
    from scanner.detection import _jsonwalk
    from scanner.detection.document import MAX_JSON_DEPTH

    parts: list[str] = []
    origins: list[object] = []
    read = _jsonwalk.walk_text(text, prefix, MAX_JSON_DEPTH, parts, origins)
    if read == _jsonwalk.UNDECIDED:  # left to json.loads and the walk
        assert (parts, origins) == ([], [])
        return
    assert (read == _jsonwalk.DONE, parts, origins) == _parts_of_loaded_json(text, prefix)
    # str objects as Python makes them: an all-ASCII one is flagged ASCII (isascii() reads the flag)
    assert all(s.isascii() == all(ord(c) < 128 for c in s) for s in parts + origins)  # type: ignore[union-attr]


_JSON_EDGES = [
    "{}", "[]", '""', '"a"', "1", "-0", "-0.0", "1e5", "1E+5", "1e", "1.", ".5", "01", "-", "true", "NaN",
    "Infinity", "-Infinity", "-Inf", '{"a":[1,null,2]}', '{"a":[[1,[2]],{"b":3}]}', '{"":1}', '{"":[1,2]}',
    "[1,]", '{"a":1,}', '{"a" 1}', "{a:1}", ' {"a" : 1 } ', '{"a":1} x', "\ufeff{}", '{"a/b~c":"x"}',
    '{"k\\u00e9":"v\\ud83d\\ude00"}', '["\\ud800"]', '["\\ud800\\u0041"]', '["\\udc00\\ud800"]', '["\\x"]',
    '["a\\nb\\t\\"\\\\\\/\\b\\f\\r"]', '["\\u12g4"]', '["a\x01"]', '["a\x7f"]', '{"é":"ü"}', '{"😀":{"x":"y"}}',
    "[1", '"abc', "123456789012345678", "1234567890123456789", "1" * 5000, "1e400", "3.14159265358979323846",
    "[" * 64 + "1" + "]" * 64, "[" * 65 + "1" + "]" * 65, "[" * 3000 + "]" * 3000, "", "[] []", "[truex]",
    '{"a":1,"a":2}', '{"\\u0061":1,"a":2}', '{"a":{"a":1},"b":[{"a":1,"c":2,"a":3}]}',
]


def test_json_text_read_in_place_edges() -> None:
    """JSON read in place (`_jsonwalk.walk_text`) gives the parts json.loads and the walk gave, and
    fails where json.loads fails, on the grammar's corners: numbers, escapes and surrogates, keys
    written as JSON pointers, duplicate keys, nesting past the depth cap, text after the value."""
    for text in _JSON_EDGES:
        for prefix in ("", '//script[@id="a"]', "[self.ü]"):
            _check_json_text(text, prefix)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(alphabet=st.sampled_from(["a", "é", "~", "/", "\\", '"', " ", "\n", "\x01", "😀", "P"]), max_size=6),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet="ab~/é\\\"", max_size=4), children, max_size=4),
    max_leaves=30,
)


@SETTINGS
@given(
    data=_JSON_VALUES,
    ascii_only=st.booleans(),
    cut=st.integers(0, 400),
    insert=st.sampled_from(["", '"', ",", "}", "]", "{", ":", "\\", "e", "-", ".", "0", " ", "\\u", "ü"]),
)
def test_json_text_read_in_place_is_json_loads_walked(data, ascii_only: bool, cut: int, insert: str) -> None:  # type: ignore[no-untyped-def]
    """The same parts and pointers as json.loads and the walk, on JSON and on JSON broken by an edit."""
    import json

    text = json.dumps(data, ensure_ascii=ascii_only)
    _check_json_text(text)
    _check_json_text(text[:cut] + insert + text[cut:])
