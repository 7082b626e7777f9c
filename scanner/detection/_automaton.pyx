# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""An Aho-Corasick automaton over UTF-8 bytes whose shallow states are a DFA (`multipattern.LiteralScan`).

The lexicons' ~48,600 literals make a trie of ~77,000 states over ~110 distinct bytes. As a full
DFA (ahocorasick-rs's) that is a transition table of every state by every byte class: ~13-70 MB in
every process that loads the lexicons, more than the crawl's memory margin. As a contiguous NFA
(ahocorasick-rs's, ~14 MB) every byte that leaves the trie's path follows failure links, with a
sparse lookup at each: ~70 instructions a byte of a typical page, with a Python tuple per
occurrence on top.

Here the states are numbered breadth first, so the shallow ones come first, and the first
``dense_states`` of them get a full row of transitions (failure links folded in): a text spends
most of its bytes within a few bytes of the root, where one table read moves it. A deeper state
keeps its children sparse (a sorted run of ids: breadth-first numbering puts a state's children
next to each other) and its failure link; a failure leads to a shallower state, so a byte costs at
most a few sparse lookups before a row decides it. Every state also keeps its nearest failure
ancestor that ends a literal (the output link), so the occurrences ending at a byte are listed in
the order ahocorasick-rs reports them: the state's own literal, then its failure chain's.

`scan` walks the text in place when it is ASCII (its bytes are its characters) and otherwise its
UTF-8 encoding, counting characters as it goes (a literal's start is the characters read minus
its length in characters), and groups the occurrences by literal in the same pass: no tuple, no
table of offsets, no second walk. Time is linear in the text plus the occurrences.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_AsUTF8String
from libc.stdint cimport int32_t, uint8_t, uint32_t
from libc.string cimport memset


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object)
    void* PyUnicode_DATA(object)


# A dense row's entry: the next state, and whether a literal ends there (the loop then looks).
cdef extern from *:
    """
    #define AC_OUTPUT 0x80000000u
    #define AC_STATE 0x7FFFFFFFu
    #define AC_NONE 0xFFFFFFFFu
    """
    const uint32_t _OUTPUT "AC_OUTPUT"
    const uint32_t _STATE "AC_STATE"
    const uint32_t _NONE "AC_NONE"


cdef class Automaton:
    """All occurrences (overlapping) of the given literals in a text, as ``{literal: [start, ...]}``."""

    cdef readonly list literals
    cdef readonly Py_ssize_t states, dense_states, classes
    cdef uint8_t cls[256]
    cdef uint8_t starts[256]  # 1 for the bytes some literal starts with
    cdef bint skip
    cdef uint32_t* row  # dense_states * classes: the next state
    cdef uint32_t* fail
    cdef uint32_t* first_child  # the id of a state's first child (children are consecutive ids)
    cdef uint32_t* next_out  # the nearest state of the failure chain that ends a literal, 0: none
    cdef uint32_t* first_out  # the state itself if it ends a literal, else next_out
    cdef int32_t* literal  # the literal a state ends, -1: none
    cdef uint8_t* child_count
    cdef uint8_t* label
    cdef int32_t* byte_length
    cdef int32_t* char_length

    def __cinit__(self):
        self.row = NULL
        self.fail = self.first_child = self.next_out = self.first_out = NULL
        self.literal = self.byte_length = self.char_length = NULL
        self.child_count = self.label = NULL

    def __dealloc__(self):
        PyMem_Free(self.row)
        PyMem_Free(self.fail)
        PyMem_Free(self.first_child)
        PyMem_Free(self.next_out)
        PyMem_Free(self.first_out)
        PyMem_Free(self.literal)
        PyMem_Free(self.byte_length)
        PyMem_Free(self.char_length)
        PyMem_Free(self.child_count)
        PyMem_Free(self.label)

    def __init__(self, literals, Py_ssize_t max_dense_bytes=2_000_000):
        """``literals``: distinct non-empty strings; the dense rows take at most ``max_dense_bytes``
        (at least the root's row)."""
        self.literals = list(literals)
        cdef Py_ssize_t n = len(self.literals)
        encoded = [(<str>lit).encode("utf-8", "surrogatepass") for lit in self.literals]
        order = sorted(range(n), key=encoded.__getitem__)
        cdef Py_ssize_t total = 1, i, d, lcp, length, k
        for e in encoded:
            if not e:
                raise ValueError("an empty literal")
            total += len(<bytes>e)
        self.byte_length = <int32_t*>_alloc(n * sizeof(int32_t))
        self.char_length = <int32_t*>_alloc(n * sizeof(int32_t))
        for i in range(n):
            self.byte_length[i] = len(<bytes>encoded[i])
            self.char_length[i] = len(<str>self.literals[i])

        # 1. The trie, in preorder, from the sorted literals: each shares its prefix with the one
        # before; a state's children are made in ascending byte order.
        cdef uint32_t* parent = <uint32_t*>_alloc(total * sizeof(uint32_t))
        cdef uint8_t* pre_label = <uint8_t*>_alloc(total)
        cdef int32_t* pre_literal = <int32_t*>_alloc(total * sizeof(int32_t))
        cdef uint32_t* path = <uint32_t*>_alloc(total * sizeof(uint32_t))
        cdef uint32_t* count = NULL
        cdef uint32_t* start = NULL
        cdef uint32_t* children = NULL
        cdef uint32_t* bfs = NULL
        cdef uint32_t* new_id = NULL
        cdef Py_ssize_t made = 1, s, t, o, head, tail, c
        cdef uint32_t f
        cdef const unsigned char* cur
        cdef const unsigned char* prev = NULL
        cdef Py_ssize_t prev_length = 0
        try:
            pre_literal[0] = -1
            path[0] = 0
            memset(self.cls, 0, 256)
            memset(self.starts, 0, 256)
            for item in order:
                i = item
                b = <bytes>encoded[i]
                cur = b
                length = len(b)
                lcp = 0
                while lcp < length and lcp < prev_length and cur[lcp] == prev[lcp]:
                    lcp += 1
                for d in range(lcp, length):
                    parent[made] = path[d]
                    pre_label[made] = cur[d]
                    pre_literal[made] = -1
                    self.cls[cur[d]] = 1
                    path[d + 1] = made
                    made += 1
                if lcp == length:
                    raise ValueError("literals repeat")
                pre_literal[path[length]] = i
                self.starts[cur[0]] = 1
                prev, prev_length = cur, length  # ``encoded`` keeps its bytes alive
            self.states = made
            # byte classes: 0 for the bytes no literal has (they lead to the root), one per other byte
            k = 1
            for c in range(256):
                if self.cls[c]:
                    self.cls[c] = k
                    k += 1
            self.classes = k

            # 2. Children of each preorder state (ascending bytes), then breadth-first ids.
            count = <uint32_t*>_alloc((made + 1) * sizeof(uint32_t))
            memset(count, 0, (made + 1) * sizeof(uint32_t))
            for s in range(1, made):
                count[parent[s] + 1] += 1
            for s in range(made):
                count[s + 1] += count[s]
            start = <uint32_t*>_alloc(made * sizeof(uint32_t))
            for s in range(made):
                start[s] = count[s]
            children = <uint32_t*>_alloc(made * sizeof(uint32_t))
            for s in range(1, made):
                children[start[parent[s]]] = s
                start[parent[s]] += 1
            bfs = <uint32_t*>_alloc(made * sizeof(uint32_t))
            new_id = <uint32_t*>_alloc(made * sizeof(uint32_t))
            self.fail = <uint32_t*>_alloc(made * sizeof(uint32_t))
            self.first_child = <uint32_t*>_alloc(made * sizeof(uint32_t))
            self.next_out = <uint32_t*>_alloc(made * sizeof(uint32_t))
            self.first_out = <uint32_t*>_alloc(made * sizeof(uint32_t))
            self.literal = <int32_t*>_alloc(made * sizeof(int32_t))
            self.child_count = <uint8_t*>_alloc(made)
            self.label = <uint8_t*>_alloc(made)
            bfs[0] = 0
            head, tail = 0, 1
            while head < tail:
                o = bfs[head]
                new_id[o] = head
                self.first_child[head] = tail
                self.child_count[head] = count[o + 1] - count[o]
                self.label[head] = pre_label[o]
                self.literal[head] = pre_literal[o]
                for t in range(count[o], count[o + 1]):
                    bfs[tail] = children[t]
                    tail += 1
                head += 1
            self.label[0] = 0

            # 3. Dense rows for the first states, failure and output links, in breadth-first order
            # (a state's failure is shallower, so it comes earlier).
            self.dense_states = max(1, min(made, max_dense_bytes // (self.classes * sizeof(uint32_t))))
            self.row = <uint32_t*>_alloc(self.dense_states * self.classes * sizeof(uint32_t))
            self.fail[0] = 0
            self.next_out[0] = 0
            self.first_out[0] = 0
            for s in range(made):
                if s < self.dense_states:
                    self._fill_row(s)
                for t in range(self.first_child[s], self.first_child[s] + self.child_count[s]):
                    f = 0 if s == 0 else self._step(self.fail[s], self.cls[self.label[t]], self.label[t])
                    self.fail[t] = f
                    self.next_out[t] = f if self.literal[f] >= 0 else self.next_out[f]
                    self.first_out[t] = t if self.literal[t] >= 0 else self.next_out[t]
            # A row's entries become `_code`s: the scan moves between dense states by offsets into
            # the rows, and sees in the entry whether a literal ends where it leads.
            for t in range(self.dense_states * self.classes):
                self.row[t] = self._code(self.row[t])
            # Skipping bytes at the root pays where few bytes start a literal.
            self.skip = sum(self.starts[c] for c in range(256)) <= 32
        finally:
            PyMem_Free(parent)
            PyMem_Free(pre_label)
            PyMem_Free(pre_literal)
            PyMem_Free(path)
            PyMem_Free(count)
            PyMem_Free(start)
            PyMem_Free(children)
            PyMem_Free(bfs)
            PyMem_Free(new_id)

    cdef void _fill_row(self, Py_ssize_t s) noexcept:
        cdef uint32_t* r = self.row + s * self.classes
        cdef uint32_t* inherited = self.row + self.fail[s] * self.classes
        cdef Py_ssize_t k, t
        for k in range(self.classes):
            r[k] = 0 if s == 0 else inherited[k]
        for t in range(self.first_child[s], self.first_child[s] + self.child_count[s]):
            r[self.cls[self.label[t]]] = t

    cdef inline uint32_t _child(self, uint32_t s, uint8_t byte) noexcept nogil:
        cdef uint32_t t = self.first_child[s]
        cdef uint32_t end = t + self.child_count[s]
        while t < end:
            if self.label[t] >= byte:
                return t if self.label[t] == byte else 0
            t += 1
        return 0

    cdef inline uint32_t _step(self, uint32_t s, uint8_t k, uint8_t byte) noexcept nogil:
        """The state after ``s`` reads ``byte`` (of class ``k``)."""
        cdef uint32_t t
        while True:
            if s < self.dense_states:
                return self.row[s * self.classes + k] & _STATE
            t = self._child(s, byte)
            if t != 0:
                return t
            s = self.fail[s]

    def scan(self, str text) -> dict:
        """``{literal: [start, ...]}`` of every occurrence in ``text`` (character offsets, ascending
        for each literal; literals in the order of their first occurrence's end)."""
        cdef dict found = {}
        cdef const uint8_t* data
        cdef Py_ssize_t n, i = 0, chars = 0, counted = 0
        cdef bint ascii = PyUnicode_IS_ASCII(text)
        cdef uint32_t off = 0, sparse = _NONE, s, t, end, v, code, p
        cdef uint8_t byte
        cdef int32_t lit
        # the tables as locals: the loop calls into Python only at an occurrence
        cdef const uint8_t* cls = self.cls
        cdef const uint8_t* starts = self.starts
        cdef bint skip = self.skip
        cdef const uint32_t* row = self.row
        cdef const uint32_t* fail = self.fail
        cdef const uint32_t* first_child = self.first_child
        cdef const uint8_t* child_count = self.child_count
        cdef const uint8_t* label = self.label
        cdef uint32_t dense = <uint32_t>self.dense_states
        cdef uint32_t classes = <uint32_t>self.classes
        cdef uint32_t sparse_base = dense * classes
        if ascii:
            data = <const uint8_t*>PyUnicode_DATA(text)
            n = len(text)
        else:
            encoded = PyUnicode_AsUTF8String(text)
            data = <const uint8_t*><const char*>encoded
            n = len(<bytes>encoded)
        while i < n:
            if sparse == _NONE:
                # Dense states where no literal ends, one table read a byte: most of a text.
                if skip:
                    if off == 0:
                        # At the root, a byte no literal starts with leaves it there: skipped in
                        # a tight loop (most of a text, for the rule groups' small automata).
                        while i < n and not starts[data[i]]:
                            i += 1
                        if i == n:
                            break
                    v = row[off + cls[data[i]]]
                    while v < sparse_base and v != 0:
                        off = v
                        i += 1
                        if i == n:
                            break
                        v = row[off + cls[data[i]]]
                    if i == n:
                        break
                    if v == 0:  # back at the root
                        off = 0
                        i += 1
                        continue
                else:
                    v = row[off + cls[data[i]]]
                    while v < sparse_base:
                        off = v
                        i += 1
                        if i == n:
                            break
                        v = row[off + cls[data[i]]]
                    if i == n:
                        break
            else:
                byte = data[i]
                s = sparse
                while True:  # a deep state: its children, else its failure (shallower)
                    t = first_child[s]
                    end = t + child_count[s]
                    while t < end and label[t] < byte:
                        t += 1
                    if t < end and label[t] == byte:
                        v = self._code(t)
                        break
                    s = fail[s]
                    if s < dense:
                        v = row[s * classes + cls[byte]]
                        break
            code = v & _STATE
            if code < sparse_base:
                off = code
                sparse = _NONE
            else:
                sparse = code - sparse_base
            if v & _OUTPUT:
                if not ascii:
                    # the characters up to this byte, counted from the last occurrence on: UTF-8
                    # continuation bytes (10xxxxxx) do not start one
                    while counted <= i:
                        if (data[counted] & 0xC0) != 0x80:
                            chars += 1
                        counted += 1
                p = self.first_out[code // classes if code < sparse_base else code - sparse_base]
                while p != 0:
                    lit = self.literal[p]
                    if ascii:
                        _add(found, self.literals[lit], i + 1 - self.byte_length[lit])
                    else:
                        _add(found, self.literals[lit], chars - self.char_length[lit])
                    p = self.next_out[p]
            i += 1
        return found

    cdef inline uint32_t _code(self, uint32_t t) noexcept nogil:
        """What a dense row holds for a move to state ``t``: its row's offset (dense) or the
        sparse states' base plus its id, with _OUTPUT where a literal ends in it."""
        cdef uint32_t code = (
            t * <uint32_t>self.classes if t < self.dense_states
            else <uint32_t>(self.dense_states * self.classes) + t
        )
        return code | _OUTPUT if self.first_out[t] != 0 else code

    @property
    def nbytes(self) -> int:
        """The bytes its tables hold."""
        return (
            self.dense_states * self.classes * 4 + self.states * (4 * 5 + 2) + len(self.literals) * 8
        )


cdef inline void _add(dict found, object literal, Py_ssize_t start) except *:
    entry = found.get(literal)
    if entry is None:
        found[literal] = [start]
    else:
        (<list>entry).append(start)


cdef void* _alloc(Py_ssize_t size) except NULL:
    cdef void* p = PyMem_Malloc(size if size > 0 else 1)
    if p == NULL:
        raise MemoryError()
    return p
