"""Regulators' warning lists, read as published: a CSV file or an HTML table.

``base_url`` is the list itself (an investor alert list, a warning list export). The header row
names the columns; the adapter takes the entity's name from the first column whose header holds
"name" (or "entity", "firm", "company") and its website from the first holding "website", "url",
"web" or "domain" (cells may list several, separated by commas, spaces or new lines). Every website
of a warned entity is a lead: warned elsewhere, it may serve Pakistan too; detection decides. A list
without a website column fails the run, naming the headers it has.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from lxml import html as lxml_html

from scanner.discovery.base import Lead, SchemaError, SourceContext
from scanner.markup import parse_complete
from scanner.pollers.session import Fetched
from scanner.textscan import ChainPattern, finditer_chains

NAME_HEADERS = ("name", "entity", "firm", "company")
SITE_HEADERS = ("website", "url", "web", "domain")
# A cell is text the list's publisher wrote: its websites are found in linear time (scanner.textscan).
_SITES = ChainPattern(
    re.compile(r"(?:https?://)?(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]{1,62}(?:/[^\s,;]*)?", re.IGNORECASE),
    starts=re.compile(r"[a-z0-9-]", re.IGNORECASE),
    labels=re.compile(r"(?:[a-z0-9-]+\.)+", re.IGNORECASE),
    run=re.compile(r"[a-z0-9-]+", re.IGNORECASE),
)


def discover(ctx: SourceContext) -> Iterator[Lead]:
    if not ctx.budget_left():
        return
    fetched = ctx.get(ctx.base_url)
    rows = _rows(fetched)
    if not rows:
        return  # a list with a header and no entries yet
    header = [h.strip().lower() for h in rows[0]]
    name_col = _column(header, NAME_HEADERS)
    site_col = _column(header, SITE_HEADERS)
    if site_col is None or name_col is None:
        missing = (
            "website (website/url/web/domain)" if site_col is None else "name (name/entity/firm/company)"
        )
        raise SchemaError(
            f"warning list: no {missing} column; headers are {', '.join(repr(h) for h in header) or 'none'}",
            method=fetched.method, url=fetched.url,
        )  # fmt: skip
    for number, row in enumerate(rows[1:], start=2):
        if len(row) <= max(site_col, name_col):
            continue
        name = " ".join(row[name_col].split())
        for found in finditer_chains(_SITES, row[site_col]):
            site = found.group()
            url = site if "://" in site else f"https://{site}"
            yield ctx.lead(url, fetched, f"{name!r} is on the warning list at {fetched.url} (row {number})")


def _column(header: list[str], wanted: tuple[str, ...]) -> int | None:
    return next((i for i, h in enumerate(header) if any(w in h for w in wanted)), None)


def _rows(fetched: Fetched) -> list[list[str]]:
    text = fetched.body.decode("utf-8-sig", "replace")
    if "csv" in fetched.content_type.lower() or fetched.url.lower().split("?")[0].endswith(".csv"):
        # Python's csv refuses a field over 128 KB (csv.Error, process-wide limit): one long cell failed
        # the whole list. The body is already bounded (http.max_response_bytes).
        csv.field_size_limit(max(csv.field_size_limit(), len(text)))
        return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    tree = parse_complete(fetched.body or b"<html/>", lxml_html.fromstring)
    for table in tree.xpath("//table"):
        rows = [
            [" ".join(cell.text_content().split()) for cell in tr.xpath("./th|./td")]
            for tr in table.xpath(".//tr")
        ]
        rows = [r for r in rows if r]
        if rows and _column([h.lower() for h in rows[0]], SITE_HEADERS + NAME_HEADERS) is not None:
            return rows
    raise SchemaError(
        "warning list: no table with a name or website header", method=fetched.method, url=fetched.url
    )
