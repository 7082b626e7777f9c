"""crt.sh: certificate-transparency names that combine a crypto word and a Pakistan word.

``GET {base_url}/?q=<pattern>&output=json`` (``%`` is crt.sh's wildcard) answers a JSON list of rows
``{issuer_name, common_name, name_value, id, entry_timestamp, not_before, not_after, ...}`` where
``name_value`` holds one or more names separated by newlines. Each query is one of ``queries``
(default: every ``%crypto%pakistan%`` and ``%pakistan%crypto%`` pair of config/discovery_words.yaml,
within the request budget). A name is kept when its site label (the registrable domain, without
subdomains) holds a crypto word and a Pakistan word; ``*.`` wildcards are stripped; each site is
led to once per run, with its earliest ``not_before``. Names already known are dropped by the runner
(only new names become candidates). An empty list is a valid answer: no certificate matched.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scanner.discovery.base import Fields, Lead, SourceContext


def discover(ctx: SourceContext) -> Iterator[Lead]:
    scheme = urlsplit(ctx.base_url).scheme  # names are fetched the way the source itself is reached
    found: dict[str, tuple[str, datetime | None, Lead]] = {}
    for query in _queries(ctx):
        if not ctx.budget_left():
            break
        fetched = ctx.get("/", params={"q": query, "output": "json"})
        data = fetched.json()
        if not isinstance(data, list):
            raise fetched.fail(f"expected a list of certificates, got {type(data).__name__}")
        rows = [Fields(row, f"response[{i}]", fetched) for i, row in enumerate(data)]
        for row in rows:  # every field first: a renamed one stores nothing
            row.req_str("name_value")
            row.str("not_before", optional=True)
        for row in rows:
            issued = _when(row.str("not_before", optional=True))
            for name in row.req_str("name_value").split("\n"):
                site = _site(name)
                if site is None or not _interesting(site, ctx):
                    continue
                known = found.get(site)
                if known is None or (issued and (known[1] is None or issued < known[1])):
                    reason = f"certificate for {name.strip().lower()} (crt.sh query {query!r}"
                    reason += f", valid from {issued:%Y-%m-%d})" if issued else ")"
                    found[site] = (site, issued, ctx.lead(f"{scheme}://{site}/", fetched, reason, issued))
    for _, _, lead in found.values():
        yield lead


def _queries(ctx: SourceContext) -> list[str]:
    if ctx.target.queries:
        return list(ctx.target.queries)
    words = ctx.words
    return [q for c in words.crypto for p in words.pakistan for q in (f"%{c}%{p}%", f"%{p}%{c}%")]


def _site(name: str) -> str | None:
    """The registrable domain of a certificate name, wildcard stripped; None for what is not a host."""
    from scanner.detection import platform_key
    from scanner.names import dns_name_or_none

    host = name.strip().lower().removeprefix("*.").rstrip(".")
    if not host or "." not in host or dns_name_or_none(host) is None:
        return None
    return platform_key(f"http://{host}/")


def _interesting(site: str, ctx: SourceContext) -> bool:
    label = site.split(".")[0]  # the site's own name; a Pakistani domain (.pk, .com.pk) counts as Pakistan
    pakistan = site.endswith(".pk") or any(w in label for w in ctx.words.pakistan)
    return pakistan and any(w in label for w in ctx.words.crypto)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
