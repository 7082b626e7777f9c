# cython: language_level=3, boundscheck=False, wraparound=False
"""Occurrences of the shared automaton's literals grouped by literal (`multipattern.LiteralScan.scan`),
in C.

ahocorasick_rs hands back every occurrence on a page as an (index, start, end) tuple, ~300 on a
typical exchange page; grouping them in a Python loop cost ~0.15 us each, more than the automaton's
own pass over the page. Here the loop reads the tuples in place.

The automaton reads the text's UTF-8 bytes (`multipattern.LiteralScan`): given a str, ahocorasick_rs
maps byte offsets to characters through a table of the whole text (an 8-byte entry per byte, filled
on every call: ~15 instructions a character, as much as half its pass). An ASCII text's byte
offsets are its character offsets; for any other, the starts are counted here, in one walk of the
bytes up to the last occurrence.
"""


def group_starts(list occurrences, list literals, bytes utf8=None) -> dict:
    """``{literals[index]: [start, ...]}`` of ``(index, start, end)`` occurrences: literals in the order
    of their first occurrence, the starts of each in the order given (ascending, as the automaton
    reports occurrences in order of their end). With ``utf8`` (the text's UTF-8 encoding, which the
    automaton read) the starts are byte offsets, turned into character offsets."""
    cdef dict found = {}
    cdef dict chars = _char_offsets(occurrences, utf8) if utf8 is not None else None
    cdef tuple occurrence
    cdef list starts
    cdef object literal, start
    for item in occurrences:
        occurrence = <tuple>item
        literal = literals[<Py_ssize_t>occurrence[0]]
        start = occurrence[1] if chars is None else chars[occurrence[1]]
        entry = found.get(literal)
        if entry is None:
            found[literal] = [start]
        else:
            starts = <list>entry
            starts.append(start)
    return found


cdef dict _char_offsets(list occurrences, bytes utf8):
    """Byte offset -> character offset of each occurrence's start: the characters before it are
    the bytes before it that are not UTF-8 continuation bytes (10xxxxxx)."""
    cdef dict chars = {}
    cdef const unsigned char* data = utf8
    cdef Py_ssize_t byte = 0, count = 0, target
    for start in sorted({(<tuple>item)[1] for item in occurrences}):
        target = <Py_ssize_t>start
        while byte < target:
            if (data[byte] & 0xC0) != 0x80:
                count += 1
            byte += 1
        chars[start] = count
    return chars
