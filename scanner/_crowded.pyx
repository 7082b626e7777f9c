# cython: language_level=3, boundscheck=False, wraparound=False
"""The scans `scanner.markup` makes of every fetched page, in C: where is a start tag with
`MAX_ATTRIBUTES` attributes or more (`crowded_tag`, `cap_attributes`)? where may an ``</html>`` end tag
start (`html_end_at`, `keep_after_html_end`)?

It was one search of a regex of possessive quantifiers and atomic groups (below), ~0.15 ms of a
typical page's ~2.5 ms of detection and paid again by the crawl for every response. Those regexes
never backtrack, so they are a deterministic reading of the markup, written out here, with the same
result at every offset (for str, ``\\s`` is Unicode whitespace as `str.isspace` knows it; for bytes,
ASCII's six whitespace bytes, as re's ``\\s`` on bytes):

    tag       <[A-Za-z][^\\s/>]*+
    between   (?:[\\s/]++|["'=][^\\s>]*+)*+
    attribute (?>between[^\\s/>"'=][^\\s/>"'=]*+(?:\\s*+=\\s*+(?:"[^"]*+"|'[^']*+'|[^\\s>"']*+))?+)
    crowded   tag attribute{MAX_ATTRIBUTES}

Like re's search, a tag is tried at every "<" and a letter, also inside another tag's quoted
value; each try reads attributes until it has enough or meets the end of the tag, so the time is
what the regex took: linear in the markup for the markup a page can hold (tests/foundation).
"""

from cpython.unicode cimport PyUnicode_READ, PyUnicode_KIND, PyUnicode_DATA, PyUnicode_GET_LENGTH
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memchr

cdef extern from "Python.h":
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch)


cdef int LT = 60  # '<' for memchr


cdef struct Markup:
    # one reading for str (any of its three widths) and bytes
    int kind  # 0: bytes, else PyUnicode_KIND
    const void* data
    Py_ssize_t size


cdef inline Py_UCS4 _at(const Markup* m, Py_ssize_t i) noexcept:
    if m.kind == 0:
        return (<const unsigned char*>m.data)[i]
    return PyUnicode_READ(m.kind, m.data, i)


cdef inline bint _space(const Markup* m, Py_UCS4 c) noexcept:
    if m.kind == 0:  # re's \s on bytes: [ \t\n\r\f\v]
        return c == 32 or 9 <= c <= 13
    return Py_UNICODE_ISSPACE(c)


cdef inline bint _name_char(const Markup* m, Py_UCS4 c) noexcept:
    # [^\s/>"'=]
    return not (_space(m, c) or c == '/' or c == '>' or c == '"' or c == "'" or c == '=')


cdef Py_ssize_t _attribute(const Markup* m, Py_ssize_t i) noexcept:
    """The end of the attribute read at ``i`` (``between``, then one), or -1 when there is none."""
    cdef Py_ssize_t n = m.size
    cdef Py_ssize_t j
    cdef Py_UCS4 c, quote
    # between: runs of blanks and slashes; a quote or "=" and what follows it up to a blank or ">"
    while i < n:
        c = _at(m, i)
        if _space(m, c) or c == '/':
            i += 1
        elif c == '"' or c == "'" or c == '=':
            i += 1
            while i < n:
                c = _at(m, i)
                if _space(m, c) or c == '>':
                    break
                i += 1
        else:
            break
    # the name: at least one character
    if i >= n or not _name_char(m, _at(m, i)):
        return -1
    i += 1
    while i < n and _name_char(m, _at(m, i)):
        i += 1
    # an optional "=" and value; without "=", nothing (the blanks go to the next "between")
    j = i
    while j < n and _space(m, _at(m, j)):
        j += 1
    if j >= n or _at(m, j) != '=':
        return i
    j += 1
    while j < n and _space(m, _at(m, j)):
        j += 1
    if j < n:
        c = _at(m, j)
        if c == '"' or c == "'":
            quote = c
            i = j + 1
            while i < n and _at(m, i) != quote:
                i += 1
            # an unclosed quote: the value is empty (the bare alternative matches nothing there)
            return i + 1 if i < n else j
        while j < n:
            c = _at(m, j)
            if _space(m, c) or c == '>' or c == '"' or c == "'":
                break
            j += 1
    return j


cdef inline bint _letter(Py_UCS4 c) noexcept:
    return 'a' <= c <= 'z' or 'A' <= c <= 'Z'


cdef Markup _markup(object markup) except *:
    cdef Markup m
    if isinstance(markup, str):
        m.kind = PyUnicode_KIND(markup)
        m.data = PyUnicode_DATA(markup)
        m.size = PyUnicode_GET_LENGTH(markup)
    else:
        m.kind = 0
        m.data = PyBytes_AS_STRING(markup)
        m.size = PyBytes_GET_SIZE(markup)
    return m


def crowded_tag(markup, Py_ssize_t start, int attributes):
    """``(tag start, end of its first attributes)`` of the first start tag at or after ``start`` with at
    least ``attributes`` attributes (the ``crowded`` regex's search), or None. ``markup`` is a str or
    bytes."""
    cdef Markup m = _markup(markup)
    cdef Py_ssize_t n = m.size
    cdef Py_ssize_t p, i, end
    cdef int count
    cdef Py_UCS4 c
    cdef const unsigned char* found
    p = start
    while p < n - 1:
        if m.kind <= 1:  # one byte a character: memchr finds the next "<"
            found = <const unsigned char*>memchr(<const unsigned char*>m.data + p, LT, n - 1 - p)
            if found is NULL:
                break
            p = found - <const unsigned char*>m.data
        if _at(&m, p) != '<' or not _letter(_at(&m, p + 1)):
            p += 1
            continue
        # the tag's name: anything up to a blank, "/" or ">"
        i = p + 2
        while i < n:
            c = _at(&m, i)
            if _space(&m, c) or c == '/' or c == '>':
                break
            i += 1
        count = 0
        while count < attributes:
            end = _attribute(&m, i)
            if end < 0:
                break
            i = end
            count += 1
        if count == attributes:
            return p, i
        p += 1
    return None


def attributes_end(markup, Py_ssize_t start) -> int:
    """Where the attributes read from ``start`` on end (the ``attribute*+`` regex's match)."""
    cdef Markup m = _markup(markup)
    cdef Py_ssize_t end
    while True:
        end = _attribute(&m, start)
        if end < 0:
            return start
        start = end


def html_end_at(markup, Py_ssize_t start) -> int:
    """Where the first ``</html`` at or after ``start`` begins, its letters in any case (h, t, m, l: the
    only characters re's IGNORECASE matches with them, for str and bytes; ``| 32`` lower-cases them), or -1: the places
    `scanner.markup`'s search for an ``</html>`` end tag needs to try."""
    cdef Markup m = _markup(markup)
    cdef Py_ssize_t n = m.size
    cdef Py_ssize_t p = start
    cdef const unsigned char* found
    while p + 6 <= n:
        if m.kind <= 1:  # one byte a character: memchr finds the next "<"
            found = <const unsigned char*>memchr(<const unsigned char*>m.data + p, LT, n - p)
            if found is NULL:
                return -1
            p = found - <const unsigned char*>m.data
            if p + 6 > n:
                return -1
        if (
            _at(&m, p) == '<' and _at(&m, p + 1) == '/'
            and (<unsigned int>_at(&m, p + 2) | 32) == 104 and (<unsigned int>_at(&m, p + 3) | 32) == 116
            and (<unsigned int>_at(&m, p + 4) | 32) == 109 and (<unsigned int>_at(&m, p + 5) | 32) == 108
        ):
            return p
        p += 1
    return -1
