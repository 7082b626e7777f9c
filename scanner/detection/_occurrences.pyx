# cython: language_level=3, boundscheck=False, wraparound=False
"""Occurrences of the shared automaton's literals grouped by literal (`multipattern.LiteralScan.scan`),
in C.

ahocorasick_rs hands back every occurrence on a page as an (index, start, end) tuple, ~1,000 on a
typical exchange page; grouping them in a Python loop cost ~0.15 us each, more than the automaton's
own pass over the page. Here the loop reads the tuples in place.
"""


def group_starts(list occurrences, list literals) -> dict:
    """``{literals[index]: [start, ...]}`` of ``(index, start, end)`` occurrences: literals in the order
    of their first occurrence, the starts of each in the order given (ascending, as the automaton
    reports occurrences in order of their end)."""
    cdef dict found = {}
    cdef tuple occurrence
    cdef list starts
    cdef object literal
    for item in occurrences:
        occurrence = <tuple>item
        literal = literals[<Py_ssize_t>occurrence[0]]
        entry = found.get(literal)
        if entry is None:
            found[literal] = [occurrence[1]]
        else:
            starts = <list>entry
            starts.append(occurrence[1])
    return found
