# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-occurrence loops of the signal passes (`scanner.detection.signals`), in C.

After the shared automaton's pass, each pass still visits every candidate position and every match
on a page: the tries of a regex at a literal's occurrences (`anchored_matches`, used by the pairs
and the rules; the vocabulary's own walk is `_collect.pyx`), and the snippet of every kept signal
(~26 a page, each a split and a join of each side). In Python that was ~0.3 ms of a typical page's ~2.2 ms. The rules are the Python
loops', unchanged, and the results the same (tests/detection/test_properties.py and
test_multipattern.py compare them with the regexes' own ``finditer`` and with ``re.sub``):

- ``str.isspace`` of one character is ``Py_UNICODE_ISSPACE``, which is what CPython's method calls;
- a snippet's whitespace is collapsed as ``re.sub(r"\\s+", " ", ...)`` collapses it, ``\\s`` being
  ``str.isspace`` for str patterns.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport (
    Py_UNICODE_ISSPACE,
    PyUnicode_1BYTE_KIND,
    PyUnicode_4BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_FromKindAndData,
    PyUnicode_KIND,
    PyUnicode_READ,
)
from libc.string cimport memchr, memcmp


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


cdef str _collapsed(str text, Py_ssize_t lo, Py_ssize_t hi, bint lead, bint trail, Py_ssize_t limit=-1):
    """``text[lo:hi]`` with each run of whitespace as one space; a run at the start kept (as one
    space) only with ``lead``, one at the end only with ``trail``; its first ``limit`` characters
    (all for -1), read no further than they need."""
    cdef Py_ssize_t i, n = 0
    cdef Py_UCS4 ch
    cdef bint pending = False
    cdef Py_UCS4* buf
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef str out
    if hi <= lo or limit == 0:
        return ""
    if limit < 0 or limit > hi - lo:
        limit = hi - lo
    buf = <Py_UCS4*>PyMem_Malloc(limit * sizeof(Py_UCS4))
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
                    if n == limit:
                        break
                pending = False
            buf[n] = ch
            n += 1
            if n == limit:
                break
        else:
            if pending and trail and (n or lead) and n < limit:
                buf[n] = 32
                n += 1
        out = _from_ucs4(buf, n, kind)
    finally:
        PyMem_Free(buf)
    return out


cdef str _collapsed_tail(str text, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t room):
    """``_collapsed(text, lo, hi, False, True)[-room:]``, read backwards from ``hi`` no further
    than those ``room`` characters need: a snippet's context before its match."""
    cdef Py_ssize_t i, n = 0
    cdef Py_UCS4 ch
    cdef bint pending = False
    cdef Py_UCS4* buf
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef str out
    if hi <= lo or room <= 0:
        return ""
    buf = <Py_UCS4*>PyMem_Malloc(room * sizeof(Py_UCS4))
    if buf == NULL:
        raise MemoryError()
    try:
        # filled from its end: buf[room - n:] holds the last n characters
        i = hi
        while i > lo and n < room:
            i -= 1
            ch = PyUnicode_READ(kind, data, i)
            if Py_UNICODE_ISSPACE(ch):
                pending = True  # one space, unless the run starts the range (dropped: not lead)
                continue
            if pending:
                n += 1
                buf[room - n] = 32
                pending = False
                if n == room:
                    break
            n += 1
            buf[room - n] = ch
        out = _from_ucs4(buf + room - n, n, kind)
    finally:
        PyMem_Free(buf)
    return out


cdef str _from_ucs4(Py_UCS4* buf, Py_ssize_t n, int kind):
    """The string of ``n`` characters at ``buf``, all from a text of this kind (or spaces)."""
    cdef Py_ssize_t i
    cdef unsigned char* narrow
    cdef str out
    if kind != PyUnicode_1BYTE_KIND:
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n)
    narrow = <unsigned char*>PyMem_Malloc(n + 1)
    if narrow == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            narrow[i] = <unsigned char>buf[i]
        out = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, narrow, n)
    finally:
        PyMem_Free(narrow)
    return out


def collapse_ws(str s) -> str:
    """``re.sub(r"\\s+", " ", s)``."""
    return _collapsed(s, 0, len(s), True, True)


def snippet_at(str text, Py_ssize_t start, Py_ssize_t end, Py_ssize_t chars) -> str:
    """At most ``chars`` characters around ``text[start:end]``, whitespace collapsed: the match (its
    first ``chars`` characters), and as much context on each side as fits, split evenly; the
    context is read from twice that many characters on each side, its outer whitespace dropped
    (each side read only as far as the characters it gives need)."""
    cdef Py_ssize_t size = len(text)
    cdef Py_ssize_t match_len = min(end - start, chars)
    cdef Py_ssize_t room = max(0, (chars - match_len) // 2)
    cdef str core = _collapsed(text, start, min(start + match_len, size), True, True)
    cdef str before = ""
    cdef str after = ""
    if room:
        before = _collapsed_tail(text, max(0, start - room * 2), min(start, size), room)
    if end - start <= chars:
        after = _collapsed(text, end, min(size, end + room * 2), True, False, chars - len(core) - len(before))
    return (before + core + after)[:chars]



# How common each ASCII letter is in English text, most common first: `occurs_latin1` looks for a
# literal's least common letter with memchr, each call of which costs ~20 instructions: "pk" is
# looked for by its "k" (~0.8% of a page's letters) rather than its "p" (~2%).
_COMMON_LETTERS = b"etaoinshrdlcumwfgypbvkjxqz"
cdef unsigned char _rank[256]


cdef void _init_rank() noexcept:
    cdef int i
    for i in range(256):
        _rank[i] = 100  # digits, punctuation, other letters: as common as a middling letter
    for i in range(len(_COMMON_LETTERS)):
        _rank[_COMMON_LETTERS[i]] = 90 + i  # rarer letters rank higher (kept apart from the rest)
        _rank[_COMMON_LETTERS[i] - 32] = 90 + i  # the upper-case letter


_init_rank()


cdef inline bint _one_byte(str literal, str text) noexcept:
    return PyUnicode_KIND(literal) == PyUnicode_1BYTE_KIND and PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND


cdef Py_ssize_t _find_from(
    const unsigned char* hay, Py_ssize_t n, const unsigned char* needle, Py_ssize_t m, Py_ssize_t key,
    Py_ssize_t start,
) noexcept nogil:
    """The first place at or after ``start`` where the ``m`` bytes of ``needle`` start in the ``n`` of
    ``hay`` (1 <= m <= n), or -1: memchr finds the needle's byte ``key``, memcmp compares the whole."""
    cdef const unsigned char* at = hay + start + key
    cdef const unsigned char* end = hay + n - m + 1 + key  # the literal fits around its byte ``key``
    while at < end:
        at = <const unsigned char*>memchr(at, needle[key], end - at)
        if at == NULL:
            return -1
        if memcmp(at - key, needle, m) == 0:
            return at - key - hay
        at += 1
    return -1


def occurs_latin1(str literal, str text):
    """``literal in text`` when both hold only characters below U+0100 (one byte each in CPython):
    memchr finds each place the literal's rarest letter is and memcmp compares the whole. A
    pre-filter's short literal ("Rs", "PK", "/-", "pk") is absent from most pages, and re's literal
    search read every character of them (~6 instructions each). None for other strings."""
    cdef Py_ssize_t m, n, i, key = 0
    cdef const unsigned char* needle
    if not _one_byte(literal, text):
        return None
    m = len(literal)
    n = len(text)
    if m == 0:
        return True
    if m > n:
        return False
    needle = <const unsigned char*>PyUnicode_DATA(literal)
    for i in range(1, m):
        if _rank[needle[i]] > _rank[needle[key]]:
            key = i
    return _find_from(<const unsigned char*>PyUnicode_DATA(text), n, needle, m, key, 0) >= 0


cdef inline bint _ascii_alnum(Py_UCS4 ch) noexcept nogil:
    # [A-Za-z0-9]: the pair pattern's look-behind and look-ahead (ASCII only, unlike \w)
    return (48 <= ch <= 57) or (65 <= ch <= 90) or (97 <= ch <= 122)


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil


cdef class PairScan:
    """The lexicons' pair pattern ``pair_lower``,
    ``(?<![A-Za-z0-9])(bases)\\s?[/_\\-:]?\\s?(quotes)(?![A-Za-z0-9])``, decided in C at the places
    where a base starts (the shared automaton's hits of the pattern's prefixes).

    ``bases`` and ``quotes`` are the pattern's alternatives in its order. What the regex decides by
    backtracking is decided in the same order (each base in order; each optional item taken first,
    then left out; each quote in order, then the look-ahead), so the match at a position is the
    regex's. Most places are inside a word or followed by no separator or quote ("ht" of every
    "https" link, "eth" of "method"): each costs a few comparisons instead of a call of the regex
    (~5,000 instructions, ~190 of them on a typical page).
    """

    cdef tuple bases, quotes, prefixes
    cdef Py_UCS4* chars  # every base's, then every quote's characters
    cdef Py_ssize_t* offsets  # literal i is chars[offsets[i]:offsets[i + 1]]; bases first
    cdef Py_ssize_t n_bases, n_quotes
    # Per ASCII character, a bit for each base (quote) that starts with it, in the pattern's order;
    # every bit for other characters (and when there are more than 64).
    cdef unsigned long long base_first[128]
    cdef unsigned long long quote_first[128]
    cdef unsigned long long all_bases, all_quotes

    def __cinit__(self, tuple bases, tuple quotes, tuple prefixes):
        cdef Py_ssize_t i, j, total = 0, n = len(bases) + len(quotes)
        cdef str literal
        self.bases, self.quotes, self.prefixes = bases, quotes, prefixes
        self.n_bases, self.n_quotes = len(bases), len(quotes)
        literals = bases + quotes
        for literal in literals:
            total += len(literal)
        self.chars = <Py_UCS4*>PyMem_Malloc((total + 1) * sizeof(Py_UCS4))
        self.offsets = <Py_ssize_t*>PyMem_Malloc((n + 1) * sizeof(Py_ssize_t))
        if self.chars == NULL or self.offsets == NULL:
            raise MemoryError()
        total = 0
        for i in range(n):
            literal = <str>literals[i]
            self.offsets[i] = total
            for j in range(len(literal)):
                self.chars[total] = literal[j]
                total += 1
        self.offsets[n] = total
        if self.n_bases > 64 or self.n_quotes > 64:
            self.all_bases = self.all_quotes = ~(<unsigned long long>0)
            for i in range(128):
                self.base_first[i] = self.quote_first[i] = ~(<unsigned long long>0)
            return
        self.all_bases = (<unsigned long long>1 << self.n_bases) - 1 if self.n_bases < 64 else ~(<unsigned long long>0)
        self.all_quotes = (<unsigned long long>1 << self.n_quotes) - 1 if self.n_quotes < 64 else ~(<unsigned long long>0)
        for i in range(128):
            self.base_first[i] = self.quote_first[i] = 0
        for i in range(n):
            if self.offsets[i + 1] == self.offsets[i]:
                continue  # an empty literal: not in a regex alternation the lexicons build
            j = self.chars[self.offsets[i]]
            if i < self.n_bases:
                if j < 128:
                    self.base_first[j] |= <unsigned long long>1 << i
            elif j < 128:
                self.quote_first[j] |= <unsigned long long>1 << (i - self.n_bases)

    def __dealloc__(self):
        PyMem_Free(self.chars)
        PyMem_Free(self.offsets)

    cdef inline bint _at(self, int kind, void* data, Py_ssize_t size, Py_ssize_t pos, Py_ssize_t i) noexcept:
        """Whether literal ``i`` occurs in the text at ``pos``."""
        cdef Py_ssize_t k, lo = self.offsets[i], n = self.offsets[i + 1] - self.offsets[i]
        if pos + n > size:
            return False
        for k in range(n):
            if PyUnicode_READ(kind, data, pos + k) != self.chars[lo + k]:
                return False
        return True

    cdef inline unsigned long long _firsts(self, Py_UCS4 ch, bint quotes) noexcept:
        """The bases (quotes) that may start with ``ch``, as bits."""
        if ch < 128:
            return self.quote_first[ch] if quotes else self.base_first[ch]
        return self.all_quotes if quotes else self.all_bases

    cdef Py_ssize_t _quote(self, int kind, void* data, Py_ssize_t size, Py_ssize_t pos, Py_ssize_t* which) noexcept:
        """End of the first quote (in order) at ``pos`` not followed by [A-Za-z0-9], or -1."""
        cdef Py_ssize_t q, end
        cdef unsigned long long bits
        if pos >= size:
            return -1
        bits = self._firsts(PyUnicode_READ(kind, data, pos), True)
        while bits:
            q = self.n_bases + __builtin_ctzll(bits)
            bits &= bits - 1
            if not self._at(kind, data, size, pos, q):
                continue
            end = pos + self.offsets[q + 1] - self.offsets[q]
            if end < size and _ascii_alnum(PyUnicode_READ(kind, data, end)):
                continue
            which[0] = q - self.n_bases
            return end
        return -1

    cdef Py_ssize_t _match(self, int kind, void* data, Py_ssize_t size, Py_ssize_t at, Py_ssize_t* base, Py_ssize_t* quote) noexcept:
        """End of the pattern's match at ``at`` (its base and quote), or -1."""
        cdef Py_ssize_t b, p1, p2, p3, end
        cdef int s1, s2, s3, w1, w2, w3
        cdef unsigned long long bits = self._firsts(PyUnicode_READ(kind, data, at), False)
        while bits:
            b = __builtin_ctzll(bits)
            bits &= bits - 1
            if not self._at(kind, data, size, at, b):
                continue
            # \s? then [/_\-:]? then \s?: greedy, so one character first, then none
            p1 = at + self.offsets[b + 1] - self.offsets[b]
            w1 = 1 if p1 < size and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, p1)) else 0
            for s1 in range(w1, -1, -1):
                p2 = p1 + s1
                w2 = 1 if p2 < size and PyUnicode_READ(kind, data, p2) in (47, 95, 45, 58) else 0  # / _ - :
                for s2 in range(w2, -1, -1):
                    p3 = p2 + s2
                    w3 = 1 if p3 < size and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, p3)) else 0
                    for s3 in range(w3, -1, -1):
                        end = self._quote(kind, data, size, p3 + s3, quote)
                        if end >= 0:
                            base[0] = b
                            return end
        return -1

    def matches(self, str lowered, dict found, Py_ssize_t limit) -> list:
        """The first ``limit`` matches of ``pair_lower.finditer(lowered)`` as (start, end, base,
        quote), given ``found``, the shared automaton's hits (literal -> ascending starts) over
        ``lowered``: tried where a prefix starts, in order (the prefixes' lists merged), never inside
        the previous match."""
        cdef list out = []
        cdef list lists = []
        cdef Py_ssize_t size = len(lowered)
        cdef int kind = PyUnicode_KIND(lowered)
        cdef void* data = PyUnicode_DATA(lowered)
        cdef Py_ssize_t k, best, at, pos = -1, last = -1, end, base = 0, quote = 0
        cdef Py_ssize_t n_lists
        cdef Py_ssize_t* heads
        cdef list hits
        if limit <= 0:
            return out
        for prefix in self.prefixes:
            found_hits = found.get(prefix)
            if found_hits is not None and len(<list>found_hits):
                lists.append(found_hits)
        n_lists = len(lists)
        if n_lists == 0:
            return out
        # each list's next index and the start there (-1: the list is done)
        heads = <Py_ssize_t*>PyMem_Malloc(2 * n_lists * sizeof(Py_ssize_t))
        if heads == NULL:
            raise MemoryError()
        try:
            for k in range(n_lists):
                heads[k] = 0
                heads[n_lists + k] = <Py_ssize_t>(<list>lists[k])[0]
            while True:
                # the smallest next start of the lists (each ascending): a few lists, a few compares
                best = -1
                at = 0
                for k in range(n_lists):
                    end = heads[n_lists + k]
                    if end >= 0 and (best < 0 or end < at):
                        best, at = k, end
                if best < 0:
                    break
                hits = <list>lists[best]
                heads[best] += 1
                heads[n_lists + best] = <Py_ssize_t>hits[heads[best]] if heads[best] < len(hits) else -1
                if at == last or at < pos or at >= size:
                    continue  # a place two prefixes start at is tried once
                last = at
                if at and _ascii_alnum(PyUnicode_READ(kind, data, at - 1)):
                    continue  # the look-behind (?<![A-Za-z0-9])
                end = self._match(kind, data, size, at, &base, &quote)
                if end >= 0:
                    out.append((at, end, self.bases[base], self.quotes[quote]))
                    pos = end
                    if len(out) >= limit:
                        break
        finally:
            PyMem_Free(heads)
        return out


def literal_starts(str literal, str text, Py_ssize_t cap):
    """Every place ``literal`` starts in ``text`` (overlapping ones too), ascending, when both hold
    only characters below U+0100: memchr finds the literal's first character, memcmp the rest.
    None for other strings, or when there are more than ``cap`` (then a regex's own scan is
    cheaper than a try at each). A rule whose matches all begin with the literal is tried there
    (`multipattern.anchored_finditer`) instead of re scanning the text for it (~5 instructions a
    character: "03" and "-" of the phone and CNIC rules, ~125,000 each on a typical page)."""
    cdef Py_ssize_t m, n, at, count = 0
    cdef const unsigned char* hay
    cdef const unsigned char* needle
    cdef list out = []
    if not _one_byte(literal, text):
        return None
    m = len(literal)
    n = len(text)
    if m == 0:
        return None
    if m > n:
        return out
    hay = <const unsigned char*>PyUnicode_DATA(text)
    needle = <const unsigned char*>PyUnicode_DATA(literal)
    at = _find_from(hay, n, needle, m, 0, 0)
    while at >= 0:
        count += 1
        if count > cap:
            return None
        out.append(at)
        at = _find_from(hay, n, needle, m, 0, at + 1)
    return out
    hay = <const unsigned char*>PyUnicode_DATA(text)
    needle = <const unsigned char*>PyUnicode_DATA(literal)
    at = hay
    end = hay + n - m + 1  # the last place the literal can start, plus one
    while at < end:
        at = <const unsigned char*>memchr(at, needle[0], end - at)
        if at == NULL:
            break
        if memcmp(at, needle, m) == 0:
            count += 1
            if count > cap:
                return None
            out.append(at - hay)
        at += 1
    return out
