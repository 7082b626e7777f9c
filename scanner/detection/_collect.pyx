# cython: language_level=3, boundscheck=False, wraparound=False
"""The vocabulary pass's candidate walk (`scanner.detection.signals._vocab`), in C arrays.

After the shared automaton's pass, the vocabulary is tried at every place one of its anchors starts
(~300 a typical exchange page, nearly all of them one-word terms decided by the character after
them). The walk this replaces (`_spans.vocab_spans`, then `_spans.first_spellings`) kept the
candidates in a dict of Python ints, sorted them and looked each one up again: ~0.7M instructions a
page, ~2,000 a candidate. Here the candidates are one C array of (start, rank, term), each
literal's starts a sorted run merged with the others,
each term's followers an ASCII bit mask, and the first span of each spelling is kept as the spans
are found. The decisions are the old walk's, in the same order (tests/detection/test_properties.py
and test_multipattern.py compare them with the trie regex's own ``finditer``):

- at a start several anchors share, the longest one-word term decides, unless an anchor that is no
  such term starts there too: then the trie regex decides (``match``);
- ``str.isalnum`` of one character is ``Py_UNICODE_ISALNUM``, which is what CPython's method calls
  (re's ``\\w`` for str patterns is that or "_"); below U+0080 both are the ASCII classes.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.unicode cimport Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE, PyUnicode_DATA, PyUnicode_KIND, PyUnicode_READ
from libc.stdint cimport uint64_t


cdef struct _Candidate:
    Py_ssize_t start
    Py_ssize_t rank  # the term's length; _OTHER for an anchor that is no one-word term
    Py_ssize_t term  # index into the walk's term table; -1 for _OTHER


cdef Py_ssize_t _OTHER = PY_SSIZE_T_MAX


cdef inline bint _before(const _Candidate* x, const _Candidate* y) noexcept nogil:
    return x.start < y.start or (x.start == y.start and x.rank < y.rank)


cdef _Candidate* _merged(_Candidate* a, _Candidate* b, Py_ssize_t* runs, Py_ssize_t n_runs) noexcept nogil:
    """Sort ``a`` (by start, then rank), made of ``n_runs`` sorted runs (run i is
    ``a[runs[i]:runs[i + 1]]``): adjacent runs merged pairwise into ``b`` and back, log2(runs) passes
    of a few compares a candidate. Returns the buffer holding the result."""
    cdef Py_ssize_t r, w, i, j, lo, mid, hi, kept
    cdef _Candidate* t
    while n_runs > 1:
        kept = 0
        r = 0
        while r < n_runs:
            lo = runs[r]
            mid = runs[r + 1]
            hi = runs[r + 2] if r + 1 < n_runs else mid
            i, j, w = lo, mid, lo
            while i < mid and j < hi:
                if _before(&a[j], &a[i]):
                    b[w] = a[j]
                    j += 1
                else:
                    b[w] = a[i]
                    i += 1
                w += 1
            while i < mid:
                b[w] = a[i]
                i += 1
                w += 1
            while j < hi:
                b[w] = a[j]
                j += 1
                w += 1
            runs[kept] = lo
            kept += 1
            r += 2
        runs[kept] = runs[n_runs]
        n_runs = kept
        t = a
        a = b
        b = t
    return a


cdef inline bint _word_char(Py_UCS4 ch) noexcept:
    # re's \w for str patterns: what (?<!\w) and (?!\w) test
    if ch < 128:
        return (48 <= ch <= 57) or (65 <= ch <= 90) or (97 <= ch <= 122) or ch == 95
    return Py_UNICODE_ISALNUM(ch)


cdef class _Terms:
    """The one-word terms whose anchors occur on a page: length, followers (the characters a longer
    spelling may go on with) as a mask of the ASCII ones plus the set for the others."""

    cdef Py_ssize_t* lengths
    cdef uint64_t* masks  # two words a term: characters 0-63, 64-127
    cdef list followers  # the frozenset of each term (for characters >= 128)
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t capacity):
        self.lengths = <Py_ssize_t*>PyMem_Malloc(max(capacity, 1) * sizeof(Py_ssize_t))
        self.masks = <uint64_t*>PyMem_Malloc(max(capacity, 1) * 2 * sizeof(uint64_t))
        if self.lengths == NULL or self.masks == NULL:
            raise MemoryError()
        self.followers = []
        self.n = 0

    def __dealloc__(self):
        PyMem_Free(self.lengths)
        PyMem_Free(self.masks)

    cdef Py_ssize_t add(self, tuple entry) except -1:
        cdef frozenset follow = <frozenset>entry[1]
        cdef Py_ssize_t i = self.n
        cdef Py_ssize_t ch
        self.lengths[i] = <Py_ssize_t>entry[0]
        self.masks[2 * i] = self.masks[2 * i + 1] = 0
        for c in follow:
            if len(<str>c) == 1:
                ch = <Py_ssize_t>(<Py_UCS4>(<str>c)[0])
                if ch < 128:
                    self.masks[2 * i + (ch >> 6)] |= (<uint64_t>1) << (ch & 63)
        self.followers.append(follow)
        self.n += 1
        return i

    cdef inline bint follows(self, Py_ssize_t i, Py_UCS4 after) except -1:
        cdef Py_ssize_t ch = <Py_ssize_t>after
        if ch < 128:
            return (self.masks[2 * i + (ch >> 6)] >> (ch & 63)) & 1
        return chr(after) in <frozenset>self.followers[i]


cdef list _spans(
    str lowered, dict found, frozenset anchors, dict terms, object match, Py_ssize_t limit
):
    cdef list spans = []
    cdef Py_ssize_t size = len(lowered), total = 0, count = 0, n_runs = 0, i, j, k, rank, term
    cdef Py_ssize_t pos = 0, start, end
    cdef int kind = PyUnicode_KIND(lowered)
    cdef void* data = PyUnicode_DATA(lowered)
    cdef _Candidate* buffers
    cdef _Candidate* cands
    cdef Py_ssize_t* runs
    cdef _Terms table
    cdef list starts
    cdef Py_UCS4 after
    if limit <= 0:
        return spans
    for literal, hits in found.items():
        if literal in anchors and len(<list>hits):
            total += len(<list>hits)
            n_runs += 1
    if total == 0:
        return spans
    table = _Terms(n_runs)
    buffers = <_Candidate*>PyMem_Malloc(2 * total * sizeof(_Candidate))
    runs = <Py_ssize_t*>PyMem_Malloc((n_runs + 1) * sizeof(Py_ssize_t))
    if buffers == NULL or runs == NULL:
        PyMem_Free(buffers)
        PyMem_Free(runs)
        raise MemoryError()
    try:
        n_runs = 0
        for literal, hits in found.items():
            starts = <list>hits
            if literal not in anchors or not len(starts):
                continue
            entry = terms.get(literal)
            if entry is None:
                rank, term = _OTHER, -1  # a longer spelling starts there: the regex decides
            else:
                rank, term = len(<str>literal), table.add(<tuple>entry)  # the longest term decides
            runs[n_runs] = count
            n_runs += 1
            for j in range(len(starts)):  # ascending: one sorted run a literal
                buffers[count].start = <Py_ssize_t>starts[j]
                buffers[count].rank = rank
                buffers[count].term = term
                count += 1
        runs[n_runs] = count
        cands = _merged(buffers, buffers + total, runs, n_runs)
        i = 0
        while i < count:
            # the last of the candidates at this start ranks highest: it decides
            k = i
            while k + 1 < count and cands[k + 1].start == cands[i].start:
                k += 1
            start, term = cands[k].start, cands[k].term
            i = k + 1
            if start < pos:
                continue
            if start and _word_char(PyUnicode_READ(kind, data, start - 1)):  # the look-behind (?<!\w)
                continue
            if term >= 0:
                end = start + table.lengths[term]
                if end >= size:
                    pos = end
                    spans.append((start, end))
                    if len(spans) >= limit:
                        break
                    continue
                after = PyUnicode_READ(kind, data, end)
                if not table.follows(term, after):
                    if _word_char(after):  # the look-ahead (?!\w) refuses it
                        continue
                    pos = end
                    spans.append((start, end))
                    if len(spans) >= limit:
                        break
                    continue
            m = match(lowered, start)
            if m is not None:
                pos = m.end()
                spans.append((start, pos))
                if len(spans) >= limit:
                    break
    finally:
        PyMem_Free(buffers)
        PyMem_Free(runs)
    return spans


def vocab_spans(
    str lowered, dict found, frozenset anchors, dict terms, object match, Py_ssize_t limit
) -> list:
    """The first ``limit`` spans of ``vocab_lower.finditer(lowered)`` (`signals._vocab_spans`):
    tried only where the shared automaton found an anchor (``found``), in order and never inside the
    previous match; where the anchors there are one-word terms of letters and digits (``terms``: the
    term -> its length and the characters a longer spelling may go on with), the character after
    the longest decides without the regex (``match``, the trie's ``match``)."""
    return _spans(lowered, found, anchors, terms, match, limit)


def vocab_firsts(
    str lowered, str text, dict found, frozenset anchors, dict terms, object match, Py_ssize_t limit
) -> tuple:
    """`first_spellings` of `vocab_spans` (its first ``limit`` + 1 spans): the vocabulary pass over
    ``lowered`` as `signals._vocab` counts it, without a list of every span handed back."""
    return first_spellings(_spans(lowered, found, anchors, terms, match, max(limit + 1, 1)), text, limit)


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


cdef extern from "Python.h":
    int PyObject_GenericSetAttr(object o, object name, object value) except -1


cdef object _object_new = object.__new__


cdef tuple _HIT_FIELDS = ("kind", "value", "snippet", "locator", "weight", "corroborating", "source")


cdef object _new_hit(object cls, tuple fields):
    """``cls(*fields)`` for the frozen, slotted `signals.SignalHit`: the object its ``__init__``
    makes (each field set with ``object.__setattr__``), without a Python frame and seven calls of
    ``object.__setattr__`` looked up by name (~3x the cost of a tuple of the same fields)."""
    cdef object hit = _object_new(cls)
    cdef Py_ssize_t i
    for i in range(7):
        PyObject_GenericSetAttr(hit, _HIT_FIELDS[i], fields[i])
    return hit


cdef class Collector:
    """The hot part of `signals._Collector` (its docstring says what it holds): ``add``, called for
    every match a pass keeps; ``materialise``, which builds the kept values' signals; ``result``.
    The Python subclass holds the rest. ``by_kind`` is kind -> value -> (start, end, weight,
    corroborating), offsets document-wide; ``built`` is (kind, value, start) -> the signal."""

    cdef public Py_ssize_t cap, limit, pass_limit, base
    cdef public dict spent, by_kind, built
    cdef public object ex
    cdef public str text
    cdef object hit_type, kind_order, snippet_at
    cdef Py_ssize_t snippet_chars

    def __init__(
        self, Py_ssize_t cap, Py_ssize_t limit, Py_ssize_t pass_limit, object hit_type, dict kind_order,
        object snippet_at, Py_ssize_t snippet_chars
    ):
        self.cap, self.limit, self.pass_limit = cap, limit, pass_limit
        self.spent = {}
        self.by_kind = {}
        self.built = {}
        self.base = 0
        self.text = ""
        self.hit_type, self.kind_order = hit_type, kind_order
        self.snippet_at, self.snippet_chars = snippet_at, snippet_chars

    cpdef add(
        self, str kind, str value, object weight, Py_ssize_t start, Py_ssize_t end, object corroborating=False
    ):
        cdef dict bucket
        cdef tuple existing, held
        cdef object weakest = None, least = None, w
        cdef Py_ssize_t weakest_start = 0, s
        start += self.base
        end += self.base
        bucket = <dict>self.by_kind.get(kind)
        if bucket is None:
            bucket = self.by_kind[kind] = {}
        existing = <tuple>bucket.get(value)
        if existing is not None:
            # Passes run rule by rule; keep the first occurrence in the document, whichever rule found it.
            if start < <Py_ssize_t>existing[0] and weight >= existing[2]:
                bucket[value] = (start, end, weight, corroborating)
            return
        if len(bucket) >= self.cap:
            # Full: a stronger value displaces the weakest (least weight, then latest start; the
            # first such in the bucket's order), so generic words cannot crowd out evidence.
            for held in bucket.values():
                w = held[2]
                if least is None or w < least:
                    least = w
            if least >= weight:
                return
            least = None
            for key, item in bucket.items():
                held = <tuple>item
                w, s = held[2], <Py_ssize_t>held[0]
                if least is None or w < least or (w == least and -s < -weakest_start):
                    least, weakest, weakest_start = w, key, s
            if (<tuple>bucket[weakest])[2] >= weight:
                return
            del bucket[weakest]
        bucket[value] = (start, end, weight, corroborating)

    def materialise(self):
        """Snippets and locators for the values found in the current window, while its text exists."""
        cdef Py_ssize_t lo = self.base, hi = self.base + len(self.text), start, i
        cdef str text = self.text
        cdef dict built = self.built
        cdef list pending = [], offsets = [], locators
        cdef tuple held, item, key
        for kind, bucket in self.by_kind.items():
            for value, entry in (<dict>bucket).items():
                held = <tuple>entry
                start = <Py_ssize_t>held[0]
                if lo <= start <= hi:
                    key = (kind, value, held[0])
                    if key not in built:
                        pending.append((key, held))
                        offsets.append(start - lo)
        if not pending:
            return
        locators = self.ex.locate_all(offsets)
        if len(locators) != len(pending):
            raise ValueError("locate_all gave a locator count unlike the offsets'")
        for i in range(len(pending)):
            item = <tuple>pending[i]
            key, held = <tuple>item[0], <tuple>item[1]
            start = <Py_ssize_t>held[0] - lo
            snippet = self.snippet_at(text, start, <Py_ssize_t>held[1] - lo, self.snippet_chars)
            built[key] = _new_hit(
                self.hit_type, (key[0], key[1], snippet, locators[i], held[2], held[3], None)
            )

    def result(self) -> list:
        """The signals, kind by kind (`KIND_ORDER`), then by document position and value."""
        cdef list items = []
        cdef dict built = self.built
        cdef Py_ssize_t index = 0
        cdef object order = self.kind_order
        for kind, bucket in self.by_kind.items():
            rank = order.get(kind, 99)
            for value, entry in (<dict>bucket).items():
                start = (<tuple>entry)[0]
                # the index: ties keep the buckets' order, as a stable sort on the first three does
                items.append((rank, start, value, index, built[(kind, value, start)]))
                index += 1
        items.sort()
        return [(<tuple>item)[4] for item in items]

    def add_vocab(
        self, list firsts, str subject, dict ci_map, frozenset cs_lower, frozenset embeds, object norm,
        object case_sensitive
    ):
        """The vocabulary entries of each first spelling ``subject[start:end]`` (`signals._vocab`'s
        merged pass): its key is ``norm(spelling)`` (lower-cased, separators dropped: when the
        lower-cased spelling holds no separator, it is the key without a call), each entry of
        ``ci_map`` under it added in order, then ``case_sensitive(start, end, key)`` where the key
        says the spelling's original case matters (``cs_lower``, ``embeds``)."""
        cdef Py_ssize_t start, end, i, size
        cdef str piece, key
        cdef int kind
        cdef void* data
        cdef Py_UCS4 ch
        for item in firsts:
            start, end = <Py_ssize_t>(<tuple>item)[0], <Py_ssize_t>(<tuple>item)[1]
            piece = subject[start:end]
            key = piece.lower()
            kind, data, size = PyUnicode_KIND(key), PyUnicode_DATA(key), len(key)
            for i in range(size):
                ch = PyUnicode_READ(kind, data, i)
                if ch == 45 or ch == 95 or Py_UNICODE_ISSPACE(ch):  # "-", "_", \s: the regex's
                    key = norm(piece)
                    break
            entries = ci_map.get(key)
            if entries is not None:
                for entry in entries:
                    self.add(entry.kind, entry.value, entry.weight, start, end, entry.corroborating)
            if key in cs_lower or key in embeds:
                case_sensitive(start, end, key)
