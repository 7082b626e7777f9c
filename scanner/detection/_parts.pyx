# cython: language_level=3, boundscheck=False, wraparound=False
"""The bookkeeping of an extracted document's parts (`scanner.detection.document.Extracted`), in C.

A typical exchange page is ~1,400 parts (each text, link and attribute, and each scalar of its JSON
scripts). Keeping the first occurrence of each part (`first_parts`) and placing the offsets of the
kept signals in their parts (`part_indices`) were loops over every part, in C through ``map`` and
``itertools``, with a Python int made per part: ~2 million instructions a typical page of ~20 million.
Here they read the list in place; the results are the ones of those loops (the property tests in
tests/detection/test_properties.py compare them).
"""

from cpython.dict cimport PyDict_SetDefault
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc


def first_parts(list parts, list origins):
    """(parts, origins) with each distinct part kept once, at its first place, with the origin of
    its first occurrence; None when no part repeats."""
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
