# cython: language_level=3, boundscheck=False, wraparound=False
"""The walk of parsed JSON that extraction makes (`scanner.detection.document._walk_container`), in C.

Every scalar becomes a ``key: value`` part located by its JSON pointer. A P2P API response is ~5
containers and ~7 scalars an ad, a page's ``__NEXT_DATA__`` script hundreds of scalars: in Python the
loop cost ~0.3 us a scalar (its f-strings, the bound appends handed down). The rules are the Python
walk's, unchanged: keys escaped as JSON pointers write them (``~`` -> ``~0``, ``/`` -> ``~1``), a list's
scalars take the key of the list, ``None`` makes no part, containers below ``max_depth`` are skipped.
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
