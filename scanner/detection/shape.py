"""The shape of a JSON document: a table of interface strings, or data.

An app's locale file (``ur.json``: ``{"buy": "خریدیں", "login": "لاگ ان کریں", ...}``) and an
exchange's API response (``{"data": [{"adv": {"price": "289.50", "minSingleTransAmount": "5000",
"tradeMethods": [...]}}]}``) are both JSON, read key by key as ``key: value`` parts. They say
different things with the same words:

- in a **table of interface strings** the values are phrases people read (labels, sentences), and
  almost none is a number; its keys name labels, so a key such as ``PaymentMethods`` is the label of
  a payment-methods screen, not a field of an advert; and every app's table has buy, log in, select
  and verification-code labels, which say nothing about what the app offers;
- in **data** (P2P adverts, market lists, tickers) many values are numbers or amounts (prices,
  limits, rates, flags) and the rest are mostly single tokens (``USDT``, ``EasypaisaPK``).

Dev round 8 (bench/realworld/README.md): 26 apps' Urdu locale files have no numeric value at all
(one has 3% of its strings "1:1"-like), every P2P response and market list in dev and the unit
corpus 8% or more. The decision is made on the first ``SAMPLE_CHARS`` of a JSON text with two
regex counts, so it costs the same on a 5 MB response as on a locale file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.detection.document import Extracted

SAMPLE_CHARS = 65_536
MIN_STRINGS = 8  # fewer parts say too little about a shape ({"error": "not found"})
MAX_NUMERIC_SHARE = 0.05  # data: 8% or more numeric values in dev; locale files 0-3%
MIN_PHRASE_SHARE = 0.5  # most values of a strings table are phrases, not single tokens

# A part's value (after "key: ") that is a number, an amount, a percentage or a boolean.
_NUMERIC_VALUE = re.compile(r": (?:[-+]?\d[\d.,]*%?|true|false)$", re.M)
# A part's value that is one token of printable ASCII (an id, a ticker, a code): not a phrase.
_TOKEN_VALUE = re.compile(r": [!-~]*$", re.M)


@dataclass(frozen=True)
class StringsTable:
    """A JSON text read as a table of interface strings: how many strings were sampled, and how
    many of them were numeric and how many single tokens (the figures the decision rests on)."""

    strings: int
    numeric: int
    tokens: int

    def describe(self) -> str:
        return (
            f"a table of interface strings ({self.strings} strings sampled: {self.numeric} numeric, "
            f"{self.strings - self.tokens} phrases)"
        )


def strings_table(ex: Extracted) -> StringsTable | None:
    """The table ``ex`` is, or None when it is not a JSON text of interface strings."""
    if ex.kind != "json" or len(ex.parts) < MIN_STRINGS:
        return None
    text = ex.text
    sample = text[:SAMPLE_CHARS]
    strings = sample.count("\n") + 1 if len(text) > SAMPLE_CHARS else len(ex.parts)
    numeric = len(_NUMERIC_VALUE.findall(sample))
    if numeric > strings * MAX_NUMERIC_SHARE:
        return None
    tokens = len(_TOKEN_VALUE.findall(sample))
    if strings - tokens < strings * MIN_PHRASE_SHARE:
        return None
    return StringsTable(strings, numeric, tokens)
