# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-occurrence loops of the signal passes (`scanner.detection.signals`), in C.

After the shared automaton's pass, each pass still visits every candidate position and every match
on a page: the vocabulary (~100 spans a typical exchange page, each a slice, a dictionary test and
a look-behind), the tries of a regex at a literal's occurrences (`anchored_matches`, used by the
pairs and the rules), and the snippet of every kept signal (~26 a page, each a split and a join of
each side). In Python that was ~0.3 ms of a typical page's ~2.2 ms. The rules are the Python
loops', unchanged, and the results the same (tests/detection/test_properties.py and
test_multipattern.py compare them with the regexes' own ``finditer`` and with ``re.sub``):

- ``str.isalnum`` and ``str.isspace`` of one character are ``Py_UNICODE_ISALNUM`` and
  ``Py_UNICODE_ISSPACE``, which is what CPython's methods call;
- a snippet's whitespace is collapsed as ``re.sub(r"\\s+", " ", ...)`` collapses it, ``\\s`` being
  ``str.isspace`` for str patterns.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport (
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISSPACE,
    PyUnicode_1BYTE_KIND,
    PyUnicode_4BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_FromKindAndData,
    PyUnicode_KIND,
    PyUnicode_READ,
)
from libc.string cimport memchr, memcmp


cdef inline bint _word_char(Py_UCS4 ch) noexcept:
    # re's \w for str patterns: what (?<!\w) and (?!\w) test
    return ch == 95 or Py_UNICODE_ISALNUM(ch)  # 95: "_"


def vocab_spans(
    str lowered, dict found, frozenset anchors, dict terms, object match, Py_ssize_t limit
) -> list:
    """The first ``limit`` spans of ``vocab_lower.finditer(lowered)`` (`signals._vocab_spans`):
    tried only where the shared automaton found an anchor (``found``), in order and never inside the
    previous match; where the anchors there are one-word terms of letters and digits (``terms``: the
    term -> its length and the characters a longer spelling may go on with), the character after
    the longest decides without the regex (``match``, the trie's ``match``)."""
    cdef dict candidates = {}  # start -> the longest term there, or "": the regex decides
    cdef list term_hits = []
    cdef list other_hits = []
    cdef list spans = []
    cdef list order
    cdef Py_ssize_t size = len(lowered)
    cdef Py_ssize_t pos = 0, start, end, length
    cdef Py_UCS4 after
    cdef object term, starts
    cdef tuple entry
    if limit <= 0:
        return spans
    for literal, starts in found.items():
        if literal in anchors:
            if literal in terms:
                term_hits.append((len(<str>literal), literal, starts))
            else:
                other_hits.append(starts)
    term_hits.sort()
    for entry in term_hits:  # longer terms last: they decide
        candidates.update(dict.fromkeys(entry[2], entry[1]))
    for starts in other_hits:  # a longer spelling starts there: the regex decides
        candidates.update(dict.fromkeys(starts, ""))
    order = sorted(candidates)
    for item in order:
        start = <Py_ssize_t>item
        if start < pos:
            continue
        if start and _word_char(lowered[start - 1]):  # the look-behind (?<!\w)
            continue
        term = candidates[item]
        if term:
            entry = <tuple>terms[term]
            length = <Py_ssize_t>entry[0]
            end = start + length
            if end >= size:
                pos = end
                spans.append((start, end))
                if len(spans) >= limit:
                    break
                continue
            after = lowered[end]
            if chr(after) not in <frozenset>entry[1]:
                if _word_char(after):  # the look-ahead (?!\w) refuses it
                    continue
                pos = end
                spans.append((start, end))
                if len(spans) >= limit:
                    break
                continue
        m = match(lowered, item)
        if m is not None:
            pos = m.end()
            spans.append((start, pos))
            if len(spans) >= limit:
                break
    return spans


def first_spellings(object spans, str text, Py_ssize_t limit) -> tuple:
    """(n, spans): the spans counted against ``limit`` as the pass counts them (n > limit: it
    stopped there), and of those the first of each spelling ``text[start:end]``; a repeated spelling
    adds nothing to the collector (`signals._vocab`)."""
    cdef set seen = set()
    cdef list kept = []
    cdef Py_ssize_t n = 0
    cdef tuple span
    cdef str raw
    for item in spans:
        n += 1
        if n > limit:
            break
        span = <tuple>item
        raw = text[<Py_ssize_t>span[0] : <Py_ssize_t>span[1]]
        if raw in seen:
            continue
        seen.add(raw)
        kept.append(span)
    return n, kept


def anchored_matches(object match, str subject, list starts, Py_ssize_t limit) -> list:
    """The first ``limit`` matches of ``finditer`` given ascending, distinct positions that include
    every match's start (`multipattern.anchored_finditer`): ``match`` (a pattern's ``match``) is
    tried at each, except inside the previous match, as ``finditer`` resumes at a match's end."""
    cdef list out = []
    cdef Py_ssize_t pos = -1, at
    if limit <= 0:
        return out
    for item in starts:
        at = <Py_ssize_t>item
        if at < pos:
            continue
        m = match(subject, item)  # the int given, not a new one: a hostile page has ~10^5 of them
        if m is not None:
            out.append(m)
            if len(out) >= limit:
                break
            pos = m.end()
    return out


cdef str _collapsed(str text, Py_ssize_t lo, Py_ssize_t hi, bint lead, bint trail):
    """``text[lo:hi]`` with each run of whitespace as one space; a run at the start kept (as one
    space) only with ``lead``, one at the end only with ``trail``."""
    cdef Py_ssize_t i, n = 0
    cdef Py_UCS4 ch
    cdef bint pending = False
    cdef Py_UCS4* buf
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef str out
    if hi <= lo:
        return ""
    buf = <Py_UCS4*>PyMem_Malloc((hi - lo) * sizeof(Py_UCS4))
    if buf == NULL:
        raise MemoryError()
    try:
        for i in range(lo, hi):
            ch = PyUnicode_READ(kind, data, i)
            if Py_UNICODE_ISSPACE(ch):
                pending = True
                continue
            if pending:
                if n or lead:
                    buf[n] = 32
                    n += 1
                pending = False
            buf[n] = ch
            n += 1
        if pending and trail and (n or lead):
            buf[n] = 32
            n += 1
        out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n)
    finally:
        PyMem_Free(buf)
    return out


def collapse_ws(str s) -> str:
    """``re.sub(r"\\s+", " ", s)``."""
    return _collapsed(s, 0, len(s), True, True)


def snippet_at(str text, Py_ssize_t start, Py_ssize_t end, Py_ssize_t chars) -> str:
    """At most ``chars`` characters around ``text[start:end]``, whitespace collapsed: the match (its
    first ``chars`` characters), and as much context on each side as fits, split evenly; the
    context is read from twice that many characters on each side, its outer whitespace dropped."""
    cdef Py_ssize_t size = len(text)
    cdef Py_ssize_t match_len = min(end - start, chars)
    cdef Py_ssize_t room = max(0, (chars - match_len) // 2)
    cdef str core = _collapsed(text, start, min(start + match_len, size), True, True)
    cdef str before = ""
    cdef str after = ""
    if room:
        before = _collapsed(text, max(0, start - room * 2), min(start, size), False, True)
        before = before[-room:] if len(before) > room else before
    if end - start <= chars:
        after = _collapsed(text, end, min(size, end + room * 2), True, False)
        after = after[: chars - len(core) - len(before)]
    return (before + core + after)[:chars]



def occurs_latin1(str literal, str text):
    """``literal in text`` when both hold only characters below U+0100 (one byte each in CPython):
    memchr finds each place the literal's first character is and memcmp compares the rest. A
    pre-filter's short literal ("Rs", "PK", "/-") is absent from most pages, and re's literal search
    read every character of them (~6 instructions each). None for other strings."""
    cdef Py_ssize_t m, n
    cdef const unsigned char* hay
    cdef const unsigned char* needle
    cdef const unsigned char* at
    cdef const unsigned char* end
    if PyUnicode_KIND(literal) != PyUnicode_1BYTE_KIND or PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND:
        return None
    m = len(literal)
    n = len(text)
    if m == 0:
        return True
    if m > n:
        return False
    hay = <const unsigned char*>PyUnicode_DATA(text)
    needle = <const unsigned char*>PyUnicode_DATA(literal)
    at = hay
    end = hay + n - m + 1  # the last place the literal can start, plus one
    while at < end:
        at = <const unsigned char*>memchr(at, needle[0], end - at)
        if at == NULL:
            return False
        if memcmp(at, needle, m) == 0:
            return True
        at += 1
    return False
