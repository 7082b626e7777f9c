# cython: language_level=3, boundscheck=False, wraparound=False
"""The JSON parts of extraction (`scanner.detection.document`), in C: read from the JSON text itself
(`walk_text`: JSON documents and JSON scripts), or walked from a parsed value (`walk_container`: state
blobs, and what `walk_text` leaves to json.loads).

Every scalar becomes a ``key: value`` part located by its JSON pointer. A P2P API response is ~5
containers and ~7 scalars an ad, a page's ``__NEXT_DATA__`` script hundreds of scalars: in Python the
loop cost ~0.3 us a scalar (its f-strings, the bound appends handed down). The rules are the Python
walk's, unchanged: keys escaped as JSON pointers write them (``~`` -> ``~0``, ``/`` -> ``~1``), a list's
scalars take the key of the list, ``None`` makes no part, containers below ``max_depth`` are skipped.

`walk_text` makes the same parts without json.loads: no dict, list or str per key and value, only the
part and its pointer per scalar (a typical page's ``__NEXT_DATA__``: ~0.9M instructions loaded and
walked, ~0.3M read in place). It reads the text's UTF-8 as json.loads reads it (its grammar, escapes,
joined surrogate pairs, NaN and Infinity, numbers written as ``str()`` of the int or float json.loads
makes) and says where json.loads would raise ValueError; what it would have to buffer, it leaves to
json.loads and the walk (a key given twice in one object, where the dict keeps the first place and the
last value; nesting past the depth cap; text UTF-8 cannot hold). The property tests compare the two.
"""


cdef str _scalar_text(object value):
    # JSON's spelling of booleans; numbers as Python writes them (json.loads made them)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


cdef int _walk(
    object container, str locator, str key, int depth, int max_depth, list parts, list origins
) except -1:
    cdef str child_key, child_locator, text
    cdef Py_ssize_t i
    depth += 1
    if depth > max_depth:
        return 0
    if isinstance(container, dict):
        for k, v in (<dict>container).items():
            child_key = k if type(k) is str else str(k)
            if "~" in child_key or "/" in child_key:
                child_locator = f"{locator}/{child_key.replace('~', '~0').replace('/', '~1')}"
            else:
                child_locator = f"{locator}/{child_key}"
            if type(v) is str:  # most scalars: no conversion needed
                parts.append(f"{child_key}: {v}" if child_key else v)
                origins.append(child_locator)
            elif isinstance(v, (dict, list)):
                _walk(v, child_locator, child_key, depth, max_depth, parts, origins)
            elif v is not None:
                text = _scalar_text(v)
                parts.append(f"{child_key}: {text}" if child_key else text)
                origins.append(child_locator)
    else:
        i = 0
        for v in container:
            if isinstance(v, (dict, list)):
                _walk(v, f"{locator}/{i}", key, depth, max_depth, parts, origins)
            elif v is not None:
                text = _scalar_text(v)
                parts.append(f"{key}: {text}" if key else text)
                origins.append(f"{locator}/{i}")
            i += 1
    return 0


def walk_container(
    container, str locator, str key, int depth, int max_depth, list parts, list origins
) -> None:
    """Append the parts of a dict or list (at ``depth``, located at ``locator``, under ``key``) to
    ``parts`` and their JSON-pointer locators to ``origins``."""
    _walk(container, locator, key, depth, max_depth, parts, origins)


# ---------------------------------------------------------------- JSON text read in place

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport uint64_t
from libc.stdlib cimport qsort
from libc.string cimport memcmp, memcpy


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    object PyUnicode_DecodeUTF8(const char*, Py_ssize_t, const char*)
    object PyUnicode_New(Py_ssize_t, Py_UCS4)
    void* PyUnicode_DATA(object)
    object PyLong_FromString(const char*, char**, int)
    object PyFloat_FromString(object)
    int PyList_Append(object, object) except -1


# What reading a JSON text in place decided (`walk_text`).
cdef enum:
    _DONE = 0  # valid JSON: its parts appended
    _INVALID = 1  # json.loads raises ValueError: nothing appended
    _UNDECIDED = 2  # a case left to json.loads and `walk_container` (nothing appended)

# Containers nested deeper than this are left to json.loads and the walk (whose own depth cap and
# RecursionError then decide): a page's JSON is rarely deeper than ~15.
cdef enum:
    _MAX_NESTING = 64


cdef struct _Buf:
    char* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int _reserve(_Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef char* data
    if b.size + extra <= b.cap:
        return 0
    cap = max(b.cap * 2, b.size + extra + 64)
    data = <char*>PyMem_Realloc(b.data, cap)
    if data == NULL:
        raise MemoryError()
    b.data, b.cap = data, cap
    return 0


cdef inline int _put(_Buf* b, const char* s, Py_ssize_t n) except -1:
    if b.size + n > b.cap:
        _reserve(b, n)
    memcpy(b.data + b.size, s, n)
    b.size += n
    return 0


cdef inline int _put_utf8(_Buf* b, unsigned int c) except -1:
    """One code point as UTF-8; a surrogate as the three bytes "surrogatepass" reads back."""
    cdef char out[4]
    if c < 0x80:
        out[0] = <char>c
        return _put(b, out, 1)
    if c < 0x800:
        out[0] = <char>(0xC0 | (c >> 6))
        out[1] = <char>(0x80 | (c & 0x3F))
        return _put(b, out, 2)
    if c < 0x10000:
        out[0] = <char>(0xE0 | (c >> 12))
        out[1] = <char>(0x80 | ((c >> 6) & 0x3F))
        out[2] = <char>(0x80 | (c & 0x3F))
        return _put(b, out, 3)
    out[0] = <char>(0xF0 | (c >> 18))
    out[1] = <char>(0x80 | ((c >> 12) & 0x3F))
    out[2] = <char>(0x80 | ((c >> 6) & 0x3F))
    out[3] = <char>(0x80 | (c & 0x3F))
    return _put(b, out, 4)


cdef inline str _str_of(const char* s, Py_ssize_t n, bint ascii):
    cdef object text
    if ascii:
        text = PyUnicode_New(n, 127)
        memcpy(PyUnicode_DATA(text), s, n)
        return <str>text
    return <str>PyUnicode_DecodeUTF8(s, n, "surrogatepass")


cdef inline bint _space(unsigned char c) noexcept nogil:
    return c == 32 or c == 10 or c == 13 or c == 9


cdef inline int _hex(unsigned char c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


cdef int _compare_keys(const void* a, const void* b) noexcept nogil:
    cdef uint64_t x = (<const uint64_t*>a)[0], y = (<const uint64_t*>b)[0]
    return (x > y) - (x < y)


cdef struct _Str:
    # A JSON string: its bytes in the text (between the quotes) or, when it has escapes, decoded
    # into ``decoded``; whether it is all ASCII; where the text goes on after it.
    const char* data
    Py_ssize_t size
    bint ascii
    bint escaped


cdef class _Reader:
    """One JSON text's UTF-8 read left to right, as json.loads reads it, appending each scalar's
    ``key: value`` part and its JSON pointer as `_walk` would from the parsed value."""

    cdef const unsigned char* s
    cdef Py_ssize_t n, i
    cdef list parts, origins
    cdef _Buf pointer  # UTF-8 of the prefix, "#" and the pointer of the value being read
    cdef Py_ssize_t pointer_high  # non-ASCII bytes in `pointer`
    cdef _Buf scratch  # a part's or a decoded string's UTF-8
    cdef _Buf hashes  # the keys of the open objects (uint64 each), innermost last

    def __dealloc__(self):
        PyMem_Free(self.pointer.data)
        PyMem_Free(self.scratch.data)
        PyMem_Free(self.hashes.data)

    cdef inline void _skip_space(self) noexcept nogil:
        while self.i < self.n and _space(self.s[self.i]):
            self.i += 1

    cdef int _string(self, _Str* out, _Buf* decoded) except -1:
        """Read the string whose opening quote is at ``i`` (then past its closing quote); _INVALID
        where json.loads would fail (a control character, a bad escape, no closing quote)."""
        cdef const unsigned char* s = self.s
        cdef Py_ssize_t i = self.i + 1, start = i, n = self.n, run
        cdef unsigned char c, high = 0
        cdef int d0, d1, d2, d3
        cdef unsigned int code, low
        while i < n:
            c = s[i]
            if c == 34 or c == 92 or c < 32:
                break
            high |= c
            i += 1
        if i >= n or s[i] < 32:
            return _INVALID
        if s[i] == 34:
            out.data, out.size, out.ascii, out.escaped = <const char*>s + start, i - start, high < 128, False
            self.i = i + 1
            return _DONE
        # escapes: decoded as json's scanstring does (a \\u high surrogate joins a \\u low one after it)
        decoded.size = 0
        _put(decoded, <const char*>s + start, i - start)
        while True:
            if i >= n:
                return _INVALID
            c = s[i]
            if c == 34:
                break
            if c < 32:
                return _INVALID
            if c != 92:
                run = i
                while i < n and s[i] != 34 and s[i] != 92 and s[i] >= 32:
                    high |= s[i]
                    i += 1
                _put(decoded, <const char*>s + run, i - run)
                continue
            i += 1
            if i >= n:
                return _INVALID
            c = s[i]
            i += 1
            if c == 117:  # u
                if i + 4 > n:
                    return _INVALID
                d0, d1, d2, d3 = _hex(s[i]), _hex(s[i + 1]), _hex(s[i + 2]), _hex(s[i + 3])
                if d0 < 0 or d1 < 0 or d2 < 0 or d3 < 0:
                    return _INVALID
                code = (d0 << 12) | (d1 << 8) | (d2 << 4) | d3
                i += 4
                if 0xD800 <= code <= 0xDBFF and i + 6 < n and s[i] == 92 and s[i + 1] == 117:
                    d0, d1, d2, d3 = _hex(s[i + 2]), _hex(s[i + 3]), _hex(s[i + 4]), _hex(s[i + 5])
                    if d0 < 0 or d1 < 0 or d2 < 0 or d3 < 0:
                        return _INVALID
                    low = (d0 << 12) | (d1 << 8) | (d2 << 4) | d3
                    if 0xDC00 <= low <= 0xDFFF:
                        code = 0x10000 + (((code - 0xD800) << 10) | (low - 0xDC00))
                        i += 6
                if code >= 128:
                    high = 128
                _put_utf8(decoded, code)
            elif c == 34 or c == 92 or c == 47:
                _put(decoded, <const char*>s + i - 1, 1)
            elif c == 98:
                _put(decoded, "\b", 1)
            elif c == 102:
                _put(decoded, "\f", 1)
            elif c == 110:
                _put(decoded, "\n", 1)
            elif c == 114:
                _put(decoded, "\r", 1)
            elif c == 116:
                _put(decoded, "\t", 1)
            else:
                return _INVALID
        out.data, out.size, out.ascii, out.escaped = decoded.data, decoded.size, high < 128, True
        self.i = i + 1
        return _DONE

    cdef int _emit(self, const _Str* key, const char* text, Py_ssize_t size, bint ascii) except -1:
        """The part ``key: text`` (``text`` alone under an empty key) and the current pointer."""
        cdef Py_ssize_t total
        cdef object part
        cdef char* out
        if key.size == 0:
            part = _str_of(text, size, ascii)
        else:
            total = key.size + 2 + size
            if ascii and key.ascii:
                part = PyUnicode_New(total, 127)
                out = <char*>PyUnicode_DATA(part)
                memcpy(out, key.data, key.size)
                out[key.size] = 58
                out[key.size + 1] = 32
                memcpy(out + key.size + 2, text, size)
            else:
                self.scratch.size = 0
                _put(&self.scratch, key.data, key.size)
                _put(&self.scratch, ": ", 2)
                _put(&self.scratch, text, size)
                part = PyUnicode_DecodeUTF8(self.scratch.data, total, "surrogatepass")
        PyList_Append(self.parts, part)
        PyList_Append(self.origins, _str_of(self.pointer.data, self.pointer.size, self.pointer_high == 0))
        return 0

    cdef int _push_key(self, const _Str* key) except -1:
        """The pointer of a member: "/" and its key, "~" written "~0" and "/" "~1"."""
        cdef Py_ssize_t j, run = 0
        cdef char c
        _put(&self.pointer, "/", 1)
        for j in range(key.size):
            c = key.data[j]
            if c == 126 or c == 47:
                _put(&self.pointer, key.data + run, j - run)
                _put(&self.pointer, "~0" if c == 126 else "~1", 2)
                run = j + 1
        _put(&self.pointer, key.data + run, key.size - run)
        if not key.ascii:
            self.pointer_high += 1
        return 0

    cdef int _literal(
        self, const char* word, Py_ssize_t size, const char* text, Py_ssize_t text_size, const _Str* key, bint emit
    ) except -1:
        """1 where ``word`` is at ``i`` (then read past; its part ``text`` appended unless ``text`` is
        NULL, as for null, or ``emit`` is off), else 0."""
        if self.i + size > self.n or memcmp(self.s + self.i, word, size) != 0:
            return 0
        self.i += size
        if emit and text != NULL:
            self._emit(key, text, text_size, True)
        return 1

    cdef int _scalar(self, const _Str* key, bint emit) except -1:
        """A number or a literal at ``i``: its part as `_scalar_text` writes the value json.loads
        makes of it (``emit``: not below the depth cap)."""
        cdef const unsigned char* s = self.s
        cdef Py_ssize_t i = self.i, n = self.n, start = i, digits
        cdef bint is_float = False
        cdef unsigned char c = s[i]
        cdef object value
        cdef str text
        cdef bytes token
        # the literals json.loads knows, and the text str() writes of the value it makes of each
        if (
            (c == 110 and self._literal("null", 4, NULL, 0, key, emit))
            or (c == 116 and self._literal("true", 4, "true", 4, key, emit))
            or (c == 102 and self._literal("false", 5, "false", 5, key, emit))
            or (c == 78 and self._literal("NaN", 3, "nan", 3, key, emit))
            or (c == 73 and self._literal("Infinity", 8, "inf", 3, key, emit))
            or (c == 45 and self._literal("-Infinity", 9, "-inf", 4, key, emit))
        ):
            return _DONE
        if c == 45:  # -
            i += 1
        # -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, as json's scanner matches it
        if i >= n or not (48 <= s[i] <= 57):
            return _INVALID
        if s[i] == 48:
            i += 1
        else:
            while i < n and 48 <= s[i] <= 57:
                i += 1
        if i + 1 < n and s[i] == 46 and 48 <= s[i + 1] <= 57:
            is_float = True
            i += 2
            while i < n and 48 <= s[i] <= 57:
                i += 1
        if i < n and (s[i] == 101 or s[i] == 69):
            digits = i + 1
            if digits < n and (s[digits] == 45 or s[digits] == 43):
                digits += 1
            if digits < n and 48 <= s[digits] <= 57:
                is_float = True
                i = digits
                while i < n and 48 <= s[i] <= 57:
                    i += 1
        self.i = i
        if not emit:
            return _DONE
        if not is_float and i - start <= 18:
            if i - start == 2 and s[start] == 45 and s[start + 1] == 48:  # int("-0") is 0
                return self._emit(key, "0", 1, True)
            return self._emit(key, <const char*>s + start, i - start, True)
        # floats and long integers: the value json.loads makes, written by str()
        token = (<const char*>s)[start:i]
        try:
            value = PyFloat_FromString(token.decode("ascii")) if is_float else PyLong_FromString(token, NULL, 10)
            text = str(value)
        except ValueError:  # beyond the digits int() converts: json.loads raises
            return _INVALID
        token = text.encode("ascii")
        return self._emit(key, token, len(token), True)

    cdef int _value(self, const _Str* key, int depth, int max_depth) except -1:
        """The value at ``i`` (a member's or an element's; space before it skipped), under ``key``,
        inside ``depth`` containers."""
        cdef unsigned char c
        cdef _Str text
        cdef _Buf decoded
        cdef int result
        if self.i >= self.n:
            return _INVALID
        c = self.s[self.i]
        if c == 123 or c == 91:
            if depth >= _MAX_NESTING:
                return _UNDECIDED
            return self._container(key, depth + 1, max_depth)
        if c == 34:
            decoded.data, decoded.size, decoded.cap = NULL, 0, 0
            try:
                result = self._string(&text, &decoded)
                if result == _DONE and depth <= max_depth:
                    self._emit(key, text.data, text.size, text.ascii)
            finally:
                PyMem_Free(decoded.data)
            return result
        return self._scalar(key, depth <= max_depth)

    cdef int _container(self, const _Str* key, int depth, int max_depth) except -1:
        """The object or array at ``i``, the ``depth``-th container in."""
        cdef bint is_object = self.s[self.i] == 123
        cdef Py_ssize_t mark = self.pointer.size, index = 0, first_hash, keys
        cdef _Str member
        cdef _Buf decoded
        cdef int result = _DONE
        cdef char digits[24]
        cdef Py_ssize_t j, size
        cdef uint64_t h
        cdef uint64_t* table
        cdef bint high
        self.i += 1
        self._skip_space()
        if self.i < self.n and self.s[self.i] == (125 if is_object else 93):
            self.i += 1
            return _DONE
        first_hash = self.hashes.size
        decoded.data, decoded.size, decoded.cap = NULL, 0, 0
        try:
            while True:
                if is_object:
                    if self.i >= self.n or self.s[self.i] != 34:
                        return _INVALID
                    result = self._string(&member, &decoded)
                    if result != _DONE:
                        return result
                    # duplicate keys: the dict keeps the first place and the last value; left to json
                    h = 0xCBF29CE484222325ULL
                    for j in range(member.size):
                        h = (h ^ <unsigned char>member.data[j]) * 0x100000001B3ULL
                    _put(&self.hashes, <const char*>&h, 8)
                    self._skip_space()
                    if self.i >= self.n or self.s[self.i] != 58:
                        return _INVALID
                    self.i += 1
                    self._skip_space()
                    high = not member.ascii
                    self._push_key(&member)
                    result = self._value(&member, depth, max_depth)
                    if high:
                        self.pointer_high -= 1
                else:
                    size = 0
                    j = index
                    while True:
                        digits[23 - size] = <char>(48 + j % 10)
                        size += 1
                        j //= 10
                        if j == 0:
                            break
                    digits[23 - size] = 47  # "/"
                    size += 1
                    _put(&self.pointer, &digits[24 - size], size)
                    result = self._value(key, depth, max_depth)
                    index += 1
                self.pointer.size = mark
                if result != _DONE:
                    return result
                self._skip_space()
                if self.i >= self.n:
                    return _INVALID
                if self.s[self.i] == (125 if is_object else 93):
                    self.i += 1
                    break
                if self.s[self.i] != 44:
                    return _INVALID
                self.i += 1
                self._skip_space()
            keys = (self.hashes.size - first_hash) // 8
            table = <uint64_t*>(self.hashes.data + first_hash)
            if keys == 2:  # most objects of a page's data: no sort
                if table[0] == table[1]:
                    return _UNDECIDED
            elif keys > 2:
                qsort(table, keys, 8, _compare_keys)
                for j in range(1, keys):
                    if table[j] == table[j - 1]:
                        return _UNDECIDED
            return _DONE
        finally:
            self.hashes.size = first_hash
            PyMem_Free(decoded.data)


def walk_text(str text, str prefix, int max_depth, list parts, list origins) -> int:
    """Append the parts of the JSON text ``text`` as ``walk_container`` would append them from
    ``json.loads(text)`` (keys and values, pointers after ``prefix`` and "#"), without a Python object
    per value: 0 where it did; 1 where json.loads raises ValueError (nothing appended); 2 where it
    leaves the text to json.loads and the walk (duplicate keys, deeper nesting, a text UTF-8 cannot
    hold: nothing appended)."""
    cdef Py_ssize_t n, mark = len(parts)
    cdef const char* data
    cdef const char* head
    cdef Py_ssize_t head_size
    cdef _Reader reader = _Reader()
    cdef _Str key
    cdef int result
    cdef bint root_null
    try:
        data = PyUnicode_AsUTF8AndSize(text, &n)
        head = PyUnicode_AsUTF8AndSize(prefix, &head_size)
    except UnicodeEncodeError:  # lone surrogates
        return _UNDECIDED
    reader.s, reader.n, reader.i = <const unsigned char*>data, n, 0
    reader.parts, reader.origins = parts, origins
    _put(&reader.pointer, head, head_size)
    _put(&reader.pointer, "#", 1)
    reader.pointer_high = 0 if prefix.isascii() else 1
    key.data, key.size, key.ascii, key.escaped = NULL, 0, True, False
    reader._skip_space()
    root_null = reader.i < n and data[reader.i] == 110  # "n"
    result = reader._value(&key, 0, max_depth)
    if result == _DONE:
        reader._skip_space()
        if reader.i != n:
            result = _INVALID
        elif root_null:  # json.loads makes None of it, which callers tell from a value
            result = _UNDECIDED
    if result != _DONE:
        del parts[mark:]
        del origins[mark:]
    return result


DONE, INVALID, UNDECIDED = _DONE, _INVALID, _UNDECIDED
