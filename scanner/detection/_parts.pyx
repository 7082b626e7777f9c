# cython: language_level=3, boundscheck=False, wraparound=False
"""The bookkeeping of an extracted document's parts (`scanner.detection.document.Extracted`), in C.

A typical exchange page is ~1,900 parts (each text, link and attribute, and each scalar of its JSON
scripts). Keeping the first occurrence of each part (`first_parts`), placing the offsets of the
kept signals in their parts (`part_indices`) and making the content digest's bytes of all the
parts (`collapsed_join`) read the list in place; the results are the ones of the Python they
replace (a dict's ``setdefault``, ``bisect`` over the parts' starts, ``" ".join(text.split())`` of
the joined text: the property tests in tests/detection/test_properties.py compare them).
"""

import os

from cpython.dict cimport PyDict_SetDefault
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE, PyList_New, PyList_SET_ITEM
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_INCREF
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_GET_LENGTH
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcmp, memcpy, memset


cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    bint PyUnicode_IS_ASCII(object)
    Py_UCS4 PyUnicode_READ(int, const void*, Py_ssize_t)
    bint Py_UNICODE_ISSPACE(Py_UCS4)


cdef inline bint _same(object a, object b) noexcept:
    """``a == b`` for two exact str objects (equal strings have the same kind: Python keeps each
    in its narrowest one)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(a)
    cdef int kind = PyUnicode_KIND(a)
    return (
        n == PyUnicode_GET_LENGTH(b) and kind == PyUnicode_KIND(b)
        and memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), n * kind) == 0
    )


PROBE_BUDGET = 8
# A process's own key for `_hash`, so that which parts collide is not the same everywhere.
cdef uint64_t _KEY = int.from_bytes(os.urandom(8), "little") | 1


cdef inline uint64_t _mix(uint64_t h) noexcept nogil:
    h ^= h >> 32
    h *= 0xD6E8FEB86659FD93ULL
    h ^= h >> 32
    return h


cdef uint64_t _hash(object part) noexcept:
    """A hash of a str's data (its kind and code units), 8 bytes a step."""
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(part) * PyUnicode_KIND(part), i = 0
    cdef const unsigned char* data = <const unsigned char*>PyUnicode_DATA(part)
    cdef uint64_t h = _KEY ^ (<uint64_t>size * 0x9E3779B97F4A7C15ULL), word
    while i + 8 <= size:
        memcpy(&word, data + i, 8)
        h = _mix((h ^ word) * 0x9E3779B97F4A7C15ULL)
        i += 8
    if i < size:
        word = 0
        memcpy(&word, data + i, size - i)
        h = _mix((h ^ word) * 0x9E3779B97F4A7C15ULL)
    return _mix(h ^ <uint64_t>PyUnicode_KIND(part))


def first_parts(list parts, list origins):
    """(parts, origins) with each distinct part kept once, at its first place, with the origin of
    its first occurrence; None when no part repeats.

    What a dict's ``setdefault`` over the parts gives, with a table of part indices sized once for
    the page (a dict grew through ~9 sizes for a typical page's ~1,900 parts, and held an entry
    object per part), probed linearly, equal parts told by their data. The hash reads the data 8
    bytes at a time (str's SipHash, which nothing after this reuses, cost ~10 instructions a byte);
    parts made to collide with it cannot make it slow: past PROBE_BUDGET probes a part on average,
    the dict does the work.
    """
    cdef Py_ssize_t n = PyList_GET_SIZE(parts), i, j, slot, mask = 7, kept = 0
    cdef Py_ssize_t probes = 0, budget = PROBE_BUDGET * n + 64
    cdef uint64_t h
    cdef Py_ssize_t* table
    cdef uint64_t* hashes
    cdef char* first
    cdef object part
    cdef list out_parts, out_origins
    for i in range(n):
        if type(<object>PyList_GET_ITEM(parts, i)) is not str:
            return _first_parts_dict(parts, origins)
    while mask < 2 * n:
        mask = mask * 2 + 1
    table = <Py_ssize_t*>PyMem_Malloc((mask + 1) * sizeof(Py_ssize_t))
    hashes = <uint64_t*>PyMem_Malloc((n + 1) * sizeof(uint64_t))
    first = <char*>PyMem_Malloc(n + 1)
    if table == NULL or hashes == NULL or first == NULL:
        PyMem_Free(table)
        PyMem_Free(hashes)
        PyMem_Free(first)
        raise MemoryError()
    try:
        memset(table, 0xFF, (mask + 1) * sizeof(Py_ssize_t))  # -1: empty
        for i in range(n):
            part = <object>PyList_GET_ITEM(parts, i)
            h = _hash(part)
            hashes[i] = h
            slot = <Py_ssize_t>(h & <uint64_t>mask)
            first[i] = 1
            while True:
                probes += 1
                if probes > budget:
                    return _first_parts_dict(parts, origins)
                j = table[slot]
                if j < 0:
                    table[slot] = i
                    kept += 1
                    break
                if hashes[j] == h and _same(<object>PyList_GET_ITEM(parts, j), part):
                    first[i] = 0
                    break
                slot = (slot + 1) & mask
        if kept == n:
            return None
        out_parts = PyList_New(kept)
        out_origins = PyList_New(kept)
        j = 0
        for i in range(n):
            if first[i]:
                part = <object>PyList_GET_ITEM(parts, i)
                Py_INCREF(part)
                PyList_SET_ITEM(out_parts, j, part)
                part = <object>PyList_GET_ITEM(origins, i)
                Py_INCREF(part)
                PyList_SET_ITEM(out_origins, j, part)
                j += 1
        return out_parts, out_origins
    finally:
        PyMem_Free(table)
        PyMem_Free(hashes)
        PyMem_Free(first)


def _first_parts_dict(list parts, list origins):
    """`first_parts` for parts that are not all exact str (none of extraction's are)."""
    cdef dict first = {}
    cdef Py_ssize_t i, n = PyList_GET_SIZE(parts)
    for i in range(n):
        PyDict_SetDefault(first, <object>PyList_GET_ITEM(parts, i), <object>PyList_GET_ITEM(origins, i))
    if len(first) == n:
        return None
    return list(first), list(first.values())


def part_indices(list parts, list offsets) -> list:
    """The index of the part holding each offset of the text ``"\\n".join(parts)`` (the last part
    that starts at or before it; the first for a negative offset): `document.Extracted.locate_all`,
    for the few offsets of a page's kept signals, without a list of where every part starts."""
    cdef Py_ssize_t n = len(parts), i, lo, hi, mid, at = 0, offset
    cdef Py_ssize_t* starts
    cdef list out = []
    if not offsets:
        return out
    starts = <Py_ssize_t*>PyMem_Malloc((n + 1) * sizeof(Py_ssize_t))
    if starts == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            starts[i] = at
            at += len(<str>PyList_GET_ITEM(parts, i)) + 1  # parts join with one newline
        starts[n] = at
        for item in offsets:
            offset = item
            # bisect_right(starts, offset) - 1, at least 0
            lo, hi = 0, n + 1
            while lo < hi:
                mid = (lo + hi) // 2
                if offset < starts[mid]:
                    hi = mid
                else:
                    lo = mid + 1
            out.append(lo - 1 if lo > 0 else 0)
    finally:
        PyMem_Free(starts)
    return out


# What `str.split()` takes for whitespace among ASCII bytes (\t \n \v \f \r, \x1c-\x1f, space), and
# each ASCII byte as `collapsed_join` writes it (whitespace as a space).
cdef unsigned char _ASCII_SPACE[128]
cdef unsigned char _SPACED[128]
for _c in range(128):
    _ASCII_SPACE[_c] = chr(_c).isspace()
    _SPACED[_c] = 32 if chr(_c).isspace() else _c


cdef inline Py_ssize_t _put_utf8(char* out, Py_ssize_t pos, unsigned int ch) noexcept:
    """``ch`` as UTF-8 at ``out[pos:]`` (a surrogate as its three bytes, as "surrogatepass" writes
    it); the position after it."""
    if ch < 0x80:
        out[pos] = <char>ch
        return pos + 1
    if ch < 0x800:
        out[pos] = <char>(0xC0 | (ch >> 6))
        out[pos + 1] = <char>(0x80 | (ch & 0x3F))
        return pos + 2
    if ch < 0x10000:
        out[pos] = <char>(0xE0 | (ch >> 12))
        out[pos + 1] = <char>(0x80 | ((ch >> 6) & 0x3F))
        out[pos + 2] = <char>(0x80 | (ch & 0x3F))
        return pos + 3
    out[pos] = <char>(0xF0 | (ch >> 18))
    out[pos + 1] = <char>(0x80 | ((ch >> 12) & 0x3F))
    out[pos + 2] = <char>(0x80 | ((ch >> 6) & 0x3F))
    out[pos + 3] = <char>(0x80 | (ch & 0x3F))
    return pos + 4


def collapsed_join(list parts, bint storable) -> bytes:
    """``" ".join("\\n".join(parts).split())`` as UTF-8 ("surrogatepass"), in one pass over the parts:
    no joined text, no split words, no translated copy. With ``storable``, of the joined text as
    `scanner.printable.storable` makes it (NUL and surrogates as U+FFFD).

    A whitespace run is written as one space where it starts (none at the start: ``last`` stands for
    "nothing yet" too), and the space a run left at the end is dropped. An ASCII part is read
    without a branch a byte: each byte is written mapped (whitespace as a space) and the position
    moves on unless the byte and the one before it are both whitespace."""
    cdef Py_ssize_t n = PyList_GET_SIZE(parts), i, j, length, size = 0, pos = 0
    cdef int kind
    cdef unsigned char last = 1  # the last byte written is a space, or none was written
    cdef unsigned char space, c
    cdef const unsigned char* ascii
    cdef const void* data
    cdef unsigned int ch  # a code point (a Py_UCS4 would be a one-character str to Cython)
    cdef object part
    for i in range(n):
        part = <object>PyList_GET_ITEM(parts, i)
        if type(part) is not str:
            raise TypeError("parts are str")
        length = PyUnicode_GET_LENGTH(part)
        # the most bytes a character of this kind takes in UTF-8 (U+FFFD, for a NUL: 3)
        kind = 1 if PyUnicode_IS_ASCII(part) else (PyUnicode_KIND(part) + 1 if PyUnicode_KIND(part) < 4 else 4)
        size += length * (3 if storable and kind < 3 else kind) + 1
    result = PyBytes_FromStringAndSize(NULL, size)
    cdef unsigned char* out = <unsigned char*>PyBytes_AS_STRING(result)
    for i in range(n):
        part = <object>PyList_GET_ITEM(parts, i)
        if i and not last:  # the newline the parts join with
            out[pos] = 32
            pos += 1
            last = 1
        length = PyUnicode_GET_LENGTH(part)
        if PyUnicode_IS_ASCII(part) and not (
            storable and memchr(PyUnicode_DATA(part), 0, length) != NULL
        ):
            ascii = <const unsigned char*>PyUnicode_DATA(part)
            for j in range(length):
                c = ascii[j]
                space = _ASCII_SPACE[c]
                out[pos] = _SPACED[c]
                pos += 1 - (space & last)  # out[pos] is in the buffer: pos <= bytes read < size
                last = space
        else:  # NUL read as U+FFFD (`storable`), or a text of wider characters
            kind = PyUnicode_KIND(part)
            data = PyUnicode_DATA(part)
            for j in range(length):
                ch = <unsigned int>PyUnicode_READ(kind, data, j)
                if Py_UNICODE_ISSPACE(<Py_UCS4>ch):
                    if not last:
                        out[pos] = 32
                        pos += 1
                        last = 1
                    continue
                last = 0
                if storable and (ch == 0 or 0xD800 <= ch <= 0xDFFF):
                    ch = 0xFFFD
                pos = _put_utf8(<char*>out, pos, ch)
    if last and pos:
        pos -= 1  # the space of a run at the end
    return result[:pos] if pos < size else result
