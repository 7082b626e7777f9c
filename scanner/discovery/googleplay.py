"""Google Play: the developers of the Android apps crawled pages and channels linked to.

Apps are the ``play.google.com/store/apps/details?id=<package>`` platforms the crawls and other
sources saw linked (and ``queries``, package names to read every run). For each, the detail page is
read as a visitor from Pakistan sees it: ``GET {base_url}/store/apps/details?id=P&hl=en&gl=PK`` and
the Urdu listing ``&hl=ur&gl=PK`` (both are evidence; an Urdu listing says who the app is for).

The page carries the app in a JSON-LD block (``<script type="application/ld+json">``,
``"@type": "SoftwareApplication"`` with ``name``, ``description``, ``applicationCategory`` and
``author`` ``{"name", "url"}``, the developer and their website); the install count is the
``.ClM7O`` figure labelled "Downloads" (``.g1rdde``), when the page shows one. The developer's
website is the lead: that is the platform to judge. A page without that JSON-LD block, or a block
without ``name`` or ``author``, fails the run naming what is missing (Google changed the page); an
app Google no longer serves (404) is noted and skipped, as apps get removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import html as lxml_html

from scanner.discovery.base import Fields, Lead, SchemaError, SourceContext
from scanner.markup import parse_complete
from scanner.pollers.session import Fetched, PollError

_KEY = re.compile(
    r"play\.google\.com/store/apps/details\?id=([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+)"
)
_URDU = re.compile(r"[\u0600-\u06FF]")
DOWNLOAD_LABELS = ("download", "ڈاؤن لوڈ")  # the install figure's label in English and Urdu listings


@dataclass(frozen=True)
class Listing:
    """What a detail page says about one app."""

    title: str
    developer: str
    website: str
    description: str
    category: str
    installs: str  # "100K+" as shown, or "" when the page shows no figure


def discover(ctx: SourceContext) -> Iterator[Lead]:
    for package in _packages(ctx):
        if not ctx.budget_left():
            return
        try:
            fetched = _details(ctx, package, "en")
        except PollError as exc:
            if package in ctx.target.queries or not exc.problem.startswith("HTTP 404"):
                raise
            ctx.notes.append(
                f"{package} skipped: {exc.problem} (removed or not served in {ctx.target.country.upper()})"
            )
            continue
        listing = parse(fetched, package)
        urdu = _urdu_listing(ctx, package)
        if urlsplit(listing.website).scheme not in ("http", "https"):  # none, or mailto:, javascript:
            ctx.notes.append(f"{package}: no developer website on the listing")
            continue
        facts = [f"by {listing.developer}"]
        if listing.installs:
            facts.append(f"{listing.installs} downloads")
        if listing.category:
            facts.append(listing.category.lower())
        if urdu:
            facts.append("Urdu listing")
        reason = f"developer website of Play app {listing.title!r} ({package}, {', '.join(facts)}) linked from a crawled page"
        yield ctx.lead(listing.website, fetched, reason)


def _details(ctx: SourceContext, package: str, language: str) -> Fetched:
    """The detail page as a visitor from the source's country sees it, in ``language``."""
    return ctx.get(
        "/store/apps/details", params={"id": package, "hl": language, "gl": ctx.target.country.upper()}
    )


def _packages(ctx: SourceContext) -> list[str]:
    """Configured packages first, then those the crawls and channels linked (newest first), each once."""
    linked = [m.group(1) for key in ctx.hosted if (m := _KEY.fullmatch(key))]
    return list(dict.fromkeys([*ctx.target.queries, *linked]))


def _urdu_listing(ctx: SourceContext, package: str) -> bool:
    """Whether the ``hl=ur`` listing has Urdu text of its own (kept as evidence either way)."""
    if not ctx.budget_left():
        return False
    try:
        fetched = _details(ctx, package, "ur")
    except PollError as exc:
        if exc.problem.startswith("HTTP 404"):
            return False
        raise
    listing = parse(fetched, package)
    return bool(_URDU.search(listing.title + listing.description))


def parse(fetched: Fetched, package: str) -> Listing:
    """The listing of a detail page; SchemaError names what the page no longer has."""
    try:
        tree = parse_complete(fetched.body or b"<html/>", lxml_html.fromstring)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise fetched.fail(f"{package}: not an HTML page ({exc})") from None
    app = _software_application(tree, fetched, package)
    author = app.obj("author")
    installs = ""
    for figure in tree.xpath('//*[contains(concat(" ", @class, " "), " ClM7O ")]'):
        label = figure.getnext()
        text = " ".join(label.text_content().split()).lower() if label is not None else ""
        if any(word in text for word in DOWNLOAD_LABELS):
            installs = " ".join(figure.text_content().split())
            break
    return Listing(
        title=" ".join(app.req_str("name").split()),
        developer=" ".join((author.str("name", optional=True) or "unknown developer").split()),
        website=(author.str("url", optional=True) or "").strip(),
        description=app.str("description", optional=True) or "",
        category=app.str("applicationCategory", optional=True) or "",
        installs=installs,
    )


def _software_application(tree: Any, fetched: Fetched, package: str) -> Fields:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "null")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("@type") in ("SoftwareApplication", "MobileApplication"):
                app = Fields(item, f"{package} JSON-LD", fetched)
                app.req_str("name"), app.obj("author")  # every field a lead needs, before any lead
                return app
    raise SchemaError(
        f"{package}: no JSON-LD SoftwareApplication block (script type=application/ld+json); the page "
        "layout changed or this is not an app's detail page", method=fetched.method, url=fetched.url,
    )  # fmt: skip
