"""Signals from a document's URL: where on a site the page sits, and whose site it is.

The text of an exchange's help-centre article explains (and reads like an explainer); its URL says it
is the exchange's own support section (``/support/``, ``/hc/``, ``/announcement/``, a ``help.``
host). A learn, academy, blog or news section says the opposite. A host name whose label is an
exchange brand (``www.kucoin.com``, ``okx.huicker.com``) makes the page something crypto even when
its text names no coin. The rules are lexicon data (``url_patterns`` in crypto.yaml and
context.yaml, ``assets.brands``; a rule marked ``own_host`` applies only on a brand's own host, where
its help centre or academy says more than an affiliate's sections do); they are matched once per document on ``//host/path`` (lower-cased,
no query), a few hundred characters at most, so they cost nothing next to the text.
"""

from __future__ import annotations

from collections import Counter

from scanner.detection.lexicon import KIND_ORDER, Lexicons
from scanner.detection.signals import SNIPPET_CHARS, SignalHit


def url_signals(url: str, lex: Lexicons) -> list[SignalHit]:
    """The URL's signals, locator ``url``, the URL as snippet."""
    # "scheme://user@host:port/path?query#fragment" -> "//host/path", by string operations (urlsplit
    # costs as much as the rest of this function and validates what no cue needs).
    scheme_sep = url.find("//")
    if scheme_sep < 0:
        return []
    subject = url[scheme_sep:].lower().partition("#")[0].partition("?")[0]
    netloc = subject[2:].partition("/")[0]
    host = netloc.rpartition("@")[2].partition(":")[0]
    subject = "//" + host + subject[2 + len(netloc) :]
    snippet = url[:SNIPPET_CHARS]
    brands = sorted(lex.host_brands.intersection(host.split("."))) + [
        b for b in lex.host_brands_dotted if host == b or host.endswith("." + b)
    ]
    # Rules marked own_host say where a page sits on an exchange's own site (its help centre, its
    # academy), which is surer there than on an affiliate's or a broker's site.
    hits = [
        SignalHit(rule.kind, rule.value or m.group(0), snippet, "url", rule.weight, rule.corroborating)
        for rule in lex.url_rules
        if (brands or not rule.own_host) and (m := rule.regex.search(subject)) is not None
    ]
    hits.extend(
        SignalHit("crypto_asset", f"{b} (host name)", snippet, "url", lex.crypto.assets.weight)
        for b in brands
    )
    return hits


def with_url_signals(signals: list[SignalHit], url: str, lex: Lexicons) -> list[SignalHit]:
    """``signals`` (in kind order) plus the URL's, each after the text's signals of its kind, within
    ``max_signals_per_kind``."""
    extra = url_signals(url, lex)
    if not extra:
        return signals
    held = Counter(s.kind for s in signals)
    cap = lex.scoring.max_signals_per_kind
    kept = []
    for hit in extra:
        if held[hit.kind] < cap:
            held[hit.kind] += 1
            kept.append(hit)
    return sorted(signals + kept, key=lambda s: KIND_ORDER.get(s.kind, len(KIND_ORDER)))
