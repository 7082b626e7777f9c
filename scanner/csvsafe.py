"""CSV that a spreadsheet opens as data: every CSV pkscan writes goes through `writer`.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width
forms, or any of them after leading blanks) is read by Excel, LibreOffice and Google Sheets as a formula; such a cell could run
``=HYPERLINK(...)`` or ``=WEBSERVICE(...)`` on a bank analyst's machine. Names, officers' reasons
and anything else that came from a crawled page are text, so such cells get a leading ``'`` (the
OWASP "CSV injection" advice); numbers are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Also neutralised: a cell starting with a line feed or NUL (OWASP ASVS 1.2.10 names NUL), and one
# whose formula character comes after leading blanks or control characters (" =cmd|' /C calc'!A0",
# "\n=1+2"): spreadsheets that trim cells on import (Google Sheets, LibreOffice's "trim spaces")
# would otherwise read the formula. U+FFFD counts as one: the store keeps a NUL as U+FFFD
# (`scanner.printable.storable`), so "\0=HYPERLINK(1)" reaches a feed as "\ufffd=HYPERLINK(1)".
_BLANKS = (
    "".join(map(chr, range(0x21)))
    + "\x7f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "\ufffd"
)


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: a string a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_START)
        or value[:1] in ("\n", "\0")
        or value.lstrip(_BLANKS).startswith(FORMULA_START)
    ):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` with every cell passed through `cell`."""

    def __init__(self, stream: _Writable, **kwargs: Any):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable, **kwargs: Any) -> SafeWriter:
    return SafeWriter(stream, **kwargs)
