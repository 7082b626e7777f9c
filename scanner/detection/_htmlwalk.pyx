# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The walk of a parsed HTML tree that extraction makes (`scanner.detection.document`), in C.

Written against libxml2's tree through lxml's public C API (``_Element._c_node``; lxml ships the .pxd
files and the libxml2 headers of the library it bundles). The walk in Python cost ~1 us per element
(a proxy object for every element, ``el.tag``, ``el.text``, ``el.tail`` and ``el.keys()`` each a call
that builds strings): about a quarter of a typical page's detection. Here the tree is read in place
and a Python string is made only for what becomes a part (non-blank text, the values of the few
attributes with a role) or an origin.

It must produce exactly what the Python walk over ``root.iter()`` produced, because every locator
and every signal follows from the parts and their origins: the nodes are visited in the order and
numbered as ``root.iter()`` numbers them (`_following`: lxml's traversal macro, written out), and
text and attribute values are read as lxml reads them (``_collectText`` for ``.text`` and ``.tail``;
``xmlGetNoNsProp`` for ``.get``). Nothing here calls libxml2: only its structs are read, so the module
links against nothing and works with the libxml2 lxml carries inside itself.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdio cimport snprintf
from libc.string cimport memcpy, strcmp, strlen, strncmp

from lxml.includes cimport tree
from lxml.includes.tree cimport const_xmlChar, xmlAttr, xmlNode
from lxml.includes.etreepublic cimport (
    _Element,
    _getNs,
    elementFactory,
    import_lxml__etree,
)

import_lxml__etree()

# What `str.isspace()` says of each ASCII byte (\t \n \v \f \r, \x1c-\x1f, space); a text with
# another byte below 0x80 is not blank, one with bytes above needs `str.isspace()` itself.
cdef bint _ASCII_SPACE[128]
for _c in range(128):
    _ASCII_SPACE[_c] = chr(_c).isspace()

# An attribute's role (see `_role`): which rule decides whether its value becomes a part.
cdef enum Role:
    NONE, READ, VALUE, LINK, SRC, LANG


cdef inline bint _is(const_xmlChar* name, const char* word) noexcept nogil:
    return strcmp(<const char*>name, word) == 0


# The names `_role` knows, in the order of its ``named`` indices: an origin names its attribute with
# one of these str, made once (decoding the name for each part made a str each, ~400 a typical page).
cdef tuple _ROLE_NAMES = (
    "alt", "aria-label", "action", "title", "placeholder", "label", "lang", "data-title", "data-tooltip",
    "data-href", "href", "hreflang", "xml:lang", "value", "src",
)  # fmt: skip


cdef Role _role(const_xmlChar* name, int* named) noexcept nogil:
    """The role of an attribute by its name: read by people (alt, title, ...), a link (href,
    action, data-href), a value (of buttons, inputs, options), a source (of iframes and links), a
    language; ``named`` is set to the name's index in `_ROLE_NAMES`. Most attributes of a page
    (class, id, style) have none: tested on the first byte."""
    cdef char first = (<const char*>name)[0]
    if first == b'a':
        if _is(name, "alt"):
            named[0] = 0
            return READ
        if _is(name, "aria-label"):
            named[0] = 1
            return READ
        if _is(name, "action"):
            named[0] = 2
            return LINK
    elif first == b't':
        if _is(name, "title"):
            named[0] = 3
            return READ
    elif first == b'p':
        if _is(name, "placeholder"):
            named[0] = 4
            return READ
    elif first == b'l':
        if _is(name, "label"):
            named[0] = 5
            return READ
        if _is(name, "lang"):
            named[0] = 6
            return LANG
    elif first == b'd':
        if _is(name, "data-title"):
            named[0] = 7
            return READ
        if _is(name, "data-tooltip"):
            named[0] = 8
            return READ
        if _is(name, "data-href"):
            named[0] = 9
            return LINK
    elif first == b'h':
        if _is(name, "href"):
            named[0] = 10
            return LINK
        if _is(name, "hreflang"):
            named[0] = 11
            return LANG
    elif first == b'x':
        if _is(name, "xml:lang"):
            named[0] = 12
            return LANG
    elif first == b'v':
        if _is(name, "value"):
            named[0] = 13
            return VALUE
    elif first == b's':
        if _is(name, "src"):
            named[0] = 14
            return SRC
    return NONE


cdef inline xmlNode* _text_or_skip(xmlNode* c_node) noexcept nogil:
    """lxml's ``_textNodeOrSkip``: the node if it is text, XInclude markers skipped, else NULL."""
    while c_node is not NULL:
        if c_node.type == tree.XML_TEXT_NODE or c_node.type == tree.XML_CDATA_SECTION_NODE:
            return c_node
        if c_node.type == tree.XML_XINCLUDE_START or c_node.type == tree.XML_XINCLUDE_END:
            c_node = c_node.next
        else:
            return NULL
    return NULL


cdef inline str _decode(const_xmlChar* s):
    # lxml's funicode: strict UTF-8 (libxml2 holds valid UTF-8)
    return PyUnicode_DecodeUTF8(<const char*>s, strlen(<const char*>s), NULL)


cdef int _blank_bytes(const_xmlChar* s) noexcept nogil:
    """1 when every byte is ASCII whitespace, 0 when one is ASCII and not, -1 when only non-ASCII
    bytes stand between it and blank (then `str.isspace()` decides: U+00A0, U+2003, ...)."""
    cdef unsigned char c
    cdef int result = 1
    while True:
        c = s[0]
        if c == 0:
            return result
        if c >= 0x80:
            result = -1
        elif not _ASCII_SPACE[c]:
            return 0
        s += 1


cdef object _visible_text(xmlNode* c_node):
    """The text lxml reads from this node on (``el.text`` from the children, ``el.tail`` from the
    next sibling: the run of text nodes there, joined), or None where that is nothing, empty or
    blank (``not t or t.isspace()``): blank text, most of a page's text nodes, makes no string."""
    cdef xmlNode* first = _text_or_skip(c_node)
    cdef xmlNode* only = NULL
    cdef int filled = 0
    cdef int blank = 1
    cdef int node_blank
    c_node = first
    while c_node is not NULL:
        if c_node.content is not NULL and c_node.content[0] != 0:
            filled += 1
            only = c_node
            if blank != 0:
                node_blank = _blank_bytes(c_node.content)
                if node_blank == 0 or node_blank == -1:
                    blank = node_blank
        c_node = _text_or_skip(c_node.next)
    if filled == 0 or blank == 1:
        return None
    cdef str text
    if filled == 1:
        text = _decode(only.content)
    else:  # several text nodes (CDATA beside text): joined as lxml joins them
        joined = bytearray()
        c_node = first
        while c_node is not NULL:
            if c_node.content is not NULL:
                joined += <bytes>(<const char*>c_node.content)
            c_node = _text_or_skip(c_node.next)
        text = joined.decode("utf-8")
    if blank == -1 and text.isspace():
        return None
    return text


cdef xmlAttr* _attribute(xmlNode* c_node, const char* name) noexcept nogil:
    """The attribute ``el.get(name)`` reads: the first one of that name without a namespace."""
    cdef xmlAttr* c_attr = c_node.properties
    while c_attr is not NULL:
        if c_attr.type == tree.XML_ATTRIBUTE_NODE and c_attr.ns is NULL and _is(c_attr.name, name):
            return c_attr
        c_attr = c_attr.next
    return NULL


cdef inline const_xmlChar* _simple_value(xmlAttr* c_attr) noexcept nogil:
    """The bytes of an attribute's value where `_value` decodes them as they are ('' for none), else
    NULL (several nodes: `_value` asks lxml)."""
    cdef xmlNode* child = c_attr.children
    if child is NULL:
        return <const_xmlChar*>""
    if child.next is NULL and child.type == tree.XML_TEXT_NODE and child.content is not NULL:
        return child.content
    return NULL


cdef object _value(_Element root, xmlNode* c_node, xmlAttr* c_attr):
    """An attribute's value as ``el.get`` returns it ('' for an attribute without one)."""
    cdef xmlNode* child = c_attr.children
    if child is NULL:
        return ""
    if child.next is NULL and child.type == tree.XML_TEXT_NODE and child.content is not NULL:
        return _decode(child.content)
    # A value libxml2 keeps in several nodes (entity references: the XML parser's, not the HTML
    # one's): lxml's own reading.
    return elementFactory(root._doc, c_node).get(_decode(c_attr.name))


cdef object _get(_Element root, xmlNode* c_node, const char* name):
    """``el.get(name)``: the value or None."""
    cdef xmlAttr* c_attr = _attribute(c_node, name)
    return None if c_attr is NULL else _value(root, c_node, c_attr)


cdef inline bint _is_element(xmlNode* c_node) noexcept nogil:
    # what lxml's iter() yields: elements, comments, processing instructions, entity references
    return (
        c_node.type == tree.XML_ELEMENT_NODE or c_node.type == tree.XML_COMMENT_NODE
        or c_node.type == tree.XML_ENTITY_REF_NODE or c_node.type == tree.XML_PI_NODE
    )


cdef inline xmlNode* _advance(xmlNode* c_node) noexcept nogil:
    while c_node is not NULL and not _is_element(c_node):
        c_node = c_node.next
    return c_node


cdef xmlNode* _following(xmlNode* c_top, xmlNode* c_node) noexcept nogil:
    """The node after ``c_node`` in ``c_top.iter()``'s order, or NULL: lxml's depth-first traversal
    (``_LX__TRAVERSE_TO_NEXT`` of etree_defs.h, which ``iter()`` uses), written out so that a
    walk can stop early."""
    cdef xmlNode* c_next = c_node.children
    if c_next is not NULL:
        if c_node.type == tree.XML_ENTITY_REF_NODE or c_node.type == tree.XML_DTD_NODE:
            c_next = NULL
        else:
            c_next = _advance(c_next)
    if c_next is NULL and c_node is not c_top:
        c_next = _advance(c_node.next)
        while c_next is NULL:
            c_node = c_node.parent
            if c_node is NULL or c_node is c_top or not _is_element(c_node):
                break
            c_next = _advance(c_node.next)
    return c_next


def walk(_Element root not None, out, meta, script) -> None:
    """Append the parts of the tree under ``root`` to ``out`` (an ``Extracted``): its parts, origins
    and langs, as `scanner.detection.document` defines them; <meta> elements go to ``meta(position,
    property, name, http-equiv, content, out)`` and scripts with text to ``script(position, type, id,
    text, out)`` (the values are ``el.get``'s: a str or None)."""
    cdef list parts = out.parts
    cdef list origins = out.origins
    cdef list langs = out.langs
    cdef xmlNode* c_top = root._c_node
    cdef xmlNode* c_node = c_top if _is_element(c_top) else NULL
    cdef Py_ssize_t position = 0
    while c_node is not NULL:
        _visit(root, c_node, position, parts, origins, langs, out, meta, script)
        position += 1
        c_node = _following(c_top, c_node)


def paths_at(_Element root not None, list positions) -> list:
    """What ``el.getroottree().getpath(el)`` gives of the element at each of these ascending
    positions of ``root.iter()`` (None past its end; "?" where getpath raises), found in one walk
    that makes no Python object for the elements it passes (``islice`` over ``iter()`` made one for
    each). An element whose path holds plain elements only (what the HTML
    parser makes) has its path written here, as libxml2's ``xmlGetNodePath`` writes it, without a
    proxy, an ElementTree and a libxml2 string for each; any other node is asked of lxml."""
    cdef list found = []
    cdef xmlNode* c_top = root._c_node
    cdef xmlNode* c_node = c_top if _is_element(c_top) else NULL
    cdef Py_ssize_t position = 0
    cdef Py_ssize_t wanted
    for item in positions:
        wanted = item
        while c_node is not NULL and position < wanted:
            position += 1
            c_node = _following(c_top, c_node)
        if c_node is NULL:
            found.append(None)
            continue
        path = _plain_path(c_node)
        if path is None:
            element = elementFactory(root._doc, c_node)
            try:
                path = element.getroottree().getpath(element)
            except (ValueError, AttributeError):
                path = "?"
        found.append(path)
    return found


cdef inline bint _same_name(xmlNode* a, xmlNode* b) noexcept nogil:
    # The parser's names come from the document's dictionary (one pointer a name); short names are
    # compared in place (strcmp's set-up cost more than a tag name's few bytes, for each sibling).
    cdef const_xmlChar* x = a.name
    cdef const_xmlChar* y = b.name
    if x == y:
        return True
    while x[0] == y[0]:
        if x[0] == 0:
            return True
        x += 1
        y += 1
    return False


cdef Py_ssize_t _occurrence(xmlNode* c_node) noexcept nogil:
    """``xmlGetNodePath``'s index of an element without a namespace among its siblings: its number
    among the elements of its name before it and itself (counted from 1), 0 when it is the only one."""
    cdef Py_ssize_t occur = 0
    cdef xmlNode* other = c_node.prev
    while other is not NULL:
        if other.type == tree.XML_ELEMENT_NODE and other.ns is NULL and _same_name(c_node, other):
            occur += 1
        other = other.prev
    if occur:
        return occur + 1
    other = c_node.next
    while other is not NULL:
        if other.type == tree.XML_ELEMENT_NODE and other.ns is NULL and _same_name(c_node, other):
            return 1
        other = other.next
    return 0


cdef object _plain_path(xmlNode* c_node):
    """``xmlGetNodePath`` of an element whose ancestors up to the document are elements without a
    namespace ("/html/body/div[2]/p"), or None for any other node (lxml is asked)."""
    cdef xmlNode* cur = c_node
    cdef Py_ssize_t size = 0, depth = 0, pos, length
    cdef Py_ssize_t occur
    cdef char digits[24]
    cdef int n
    while cur is not NULL and cur.type == tree.XML_ELEMENT_NODE:
        if cur.ns is not NULL:
            return None
        size += 1 + <Py_ssize_t>strlen(<const char*>cur.name) + 22  # "/" name "[n]"
        depth += 1
        cur = cur.parent
    if cur is NULL or depth == 0 or not (
        cur.type == tree.XML_DOCUMENT_NODE or cur.type == tree.XML_HTML_DOCUMENT_NODE
    ):
        return None
    cdef bytearray buffer = bytearray(size)
    cdef char* out = buffer
    pos = size  # written from the end: the element first, its ancestors before it
    cur = c_node
    while cur.type == tree.XML_ELEMENT_NODE:
        occur = _occurrence(cur)
        if occur:
            n = snprintf(digits, sizeof(digits), "[%zd]", occur)
            pos -= n
            memcpy(out + pos, digits, n)
        length = strlen(<const char*>cur.name)
        pos -= length
        memcpy(out + pos, cur.name, length)
        pos -= 1
        out[pos] = b'/'
        cur = cur.parent
    return PyUnicode_DecodeUTF8(out + pos, size - pos, NULL)


cdef int _visit(
    _Element root, xmlNode* c_node, Py_ssize_t position, list parts, list origins, list langs,
    object out, object meta, object script,
) except -1:
    cdef bint plain
    if c_node.type == tree.XML_ELEMENT_NODE:
        # a tag in a namespace reads "{uri}name" in lxml: none of the names below
        plain = _getNs(c_node) is NULL
        if c_node.properties is not NULL:
            if plain and _is(c_node.name, "meta"):
                meta(
                    position,
                    _get(root, c_node, "property"),
                    _get(root, c_node, "name"),
                    _get(root, c_node, "http-equiv"),
                    _get(root, c_node, "content"),
                    out,
                )
            else:
                _attributes(root, c_node, position, plain, parts, origins, langs)
        text = _visible_text(c_node.children)
        if text is not None:
            if not plain or not _skips_text(c_node.name):
                parts.append(text)
                origins.append(position)
            elif _is(c_node.name, "script"):
                script(position, _get(root, c_node, "type"), _get(root, c_node, "id"), text, out)
    # comments and processing instructions are dropped by the parser; entities keep a tail
    tail = _visible_text(c_node.next)
    if tail is not None:
        parts.append(tail)
        origins.append(~position)
    return 0


cdef int _attributes(
    _Element root, xmlNode* c_node, Py_ssize_t position, bint plain, list parts, list origins, list langs
) except -1:
    """The parts of an element's attributes with a role, in their order."""
    cdef xmlAttr* c_attr = c_node.properties
    cdef Role role
    cdef const_xmlChar* name
    cdef const_xmlChar* raw
    cdef xmlAttr* c_value
    cdef int blank
    cdef int named = 0
    while c_attr is not NULL:
        name = c_attr.name
        # lxml names an attribute in a namespace "{uri}name": none has a role
        role = _role(name, &named) if c_attr.type == tree.XML_ATTRIBUTE_NODE and c_attr.ns is NULL else NONE
        if role != NONE:
            c_value = _attribute(c_node, <const char*>name)
            if role == READ or (role == VALUE and plain and _value_tag(c_node.name)):
                role = READ
            elif role == LINK or (role == SRC and plain and _src_tag(c_node.name)):
                role = LINK
            elif role != LANG:
                role = NONE
            raw = _simple_value(c_value)
            if raw is not NULL:
                # The value is one text node (nearly always): judged on its bytes, a str made only of
                # a value kept (``value.isspace()``/``startswith`` were a method call each).
                if raw[0] == 0 or role == NONE:
                    role = NONE
                elif role == READ:
                    blank = _blank_bytes(raw)
                    if blank == 1 or (blank == -1 and _decode(raw).isspace()):
                        role = NONE
                elif role == LINK:
                    if _not_link(<const char*>raw):
                        role = NONE
                if role != NONE:
                    value = _decode(raw)
            elif role != NONE:
                value = _value(root, c_node, c_value)
                if not value:
                    role = NONE
                elif role == READ:
                    if value.isspace():
                        role = NONE
                elif role == LINK:
                    if value.startswith(_NOT_LINKS):
                        role = NONE
            if role == LANG:
                key = _ROLE_NAMES[named]
                langs.append((key, value.strip(), (position, key)))
            elif role != NONE:
                parts.append(value)
                origins.append((position, _ROLE_NAMES[named]))
        c_attr = c_attr.next
    return 0


_NOT_LINKS = ("data:", "#", "javascript:")


cdef int _index = -1
for _i, _named in enumerate(_ROLE_NAMES):  # each name's index is the one `_role` sets
    _role(_named.encode(), &_index)
    assert _index == _i, _named



cdef inline bint _not_link(const char* value) noexcept nogil:
    """``value.startswith(_NOT_LINKS)`` of a value's UTF-8 bytes (the prefixes are ASCII)."""
    cdef char first = value[0]
    if first == b'#':
        return True
    if first == b'd':
        return strncmp(value, "data:", 5) == 0
    if first == b'j':
        return strncmp(value, "javascript:", 11) == 0
    return False


cdef inline bint _skips_text(const_xmlChar* tag) noexcept nogil:
    """Whether an element's own text is not read (`document._SKIP_TEXT_TAGS`): told by the first
    byte before any compare (most elements with text are none of them)."""
    cdef char first = (<const char*>tag)[0]
    if first == b's':
        return _is(tag, "script") or _is(tag, "style") or _is(tag, "svg")
    if first == b't':
        return _is(tag, "template")
    if first == b'm':
        return _is(tag, "math")
    return False


cdef inline bint _value_tag(const_xmlChar* tag) noexcept nogil:
    return _is(tag, "button") or _is(tag, "input") or _is(tag, "option")


cdef inline bint _src_tag(const_xmlChar* tag) noexcept nogil:
    return _is(tag, "iframe") or _is(tag, "a")
