"""CSV that a spreadsheet opens as data: every CSV pkscan writes goes through `writer`.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width
forms) is read by Excel, LibreOffice and Google Sheets as a formula; such a cell could run
``=HYPERLINK(...)`` or ``=WEBSERVICE(...)`` on a bank analyst's machine. Names, officers' reasons
and anything else that came from a crawled page are text, so such cells get a leading ``'`` (the
OWASP "CSV injection" advice); numbers are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: a string a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
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
