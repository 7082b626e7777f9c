"""Detection engine: pure functions from a document, the lexicons and the register to a verdict.

No network and no database in here. Typical use::

    from scanner.detection import Document, analyze, load_lexicons
    lex = load_lexicons(config.lexicon_dir)
    result = analyze(Document(url, "text/html", body), lex, config.register)
    result.verdict, result.score, result.to_json()

``aggregate(platform_key, analyses, lex, register)`` judges a platform over many of its documents:
the crypto service may be on one page and the Pakistani targeting on another.

Signal kinds (``SignalHit.kind``):

===================== ===================================================================
crypto_service        service phrases ("buy USDT", "P2P trading", "order book") in English,
                      Urdu script and Roman Urdu; generic calls to action (weak); P2P
                      advertisement fields in exchange API JSON
exchange_operation    operating an exchange account or product: delisting, identity verification,
                      trading bots, subscribe/redeem, settlement, the interface's instructions
                      (Urdu script, Roman Urdu, English); an offer, not a crypto cue
crypto_product        crypto trading products named: futures, perpetual contracts, margin,
                      leverage, liquidation, orders, positions, funding rates; a topic (capped,
                      as explainers name them as much as help pages), neither offer nor asset
crypto_asset          BTC, USDT, bitcoin, tether, exchange brands, ...
trading_pair          BTC/USDT, BTC_PKR, BTCPKR, usdt-pkr
pkr_market            a PKR-quoted pair, or PKR in a fiat field (fiat, fiatUnit, quoteCurrency,
                      currencyId, quote, ``?fiat=PKR``)
pkr_amount            PKR amounts ("PKR 5,000", "5000 PKR"), "Pakistani rupee", روپے amounts,
                      PKR price fields; ``Rs``/``₨`` amounts are corroborating only
payment_rail          Pakistani wallets, Raast, IBFT/1LINK, banks; spelling variants and P2P ids
pk_iban               a Pakistani IBAN that passes the ISO 13616 mod-97 check
urdu_script           Urdu (or Pashto/Sindhi) script, told from Arabic/Persian by its letters
urdu_crypto_term      Urdu-script crypto vocabulary (also counts as crypto)
roman_urdu            Roman-Urdu marketing phrases (corroborating only: close to Roman Hindi)
pk_phone              +92/0092 and 03xx mobiles, wa.me/92..., Pakistani landlines
pk_city               Pakistani cities in English and Urdu
pk_country            "Pakistan", "پاکستان", 🇵🇰 (weak: country drop-downs list it too)
pk_locale             lang/hreflang/og:locale ur or *-PK, /ur/ locale paths in links
pk_app_store          apps.apple.com/pk/..., Play links with gl=PK or hl=ur
cnic_request          CNIC / NADRA / شناختی کارڈ mentions and CNIC numbers
regulatory_claim      PVARA/SECP/SBP names and licence or NOC claims (checked against the register)
non_service_context   news, shop, bank, broker, regulator or education cues (argue against
                      crypto_service); value "<category>: <cue>"
interface_strings     the JSON is a table of interface strings (an app's locale file), not API
                      data: labels every app has (buy, log in, select) are not counted for
                      crypto_service, and its keys are not read as P2P advert fields (shape.py)
===================== ===================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanner.config import Register
from scanner.detection.document import Document, Extracted, TextDigest, decode_body
from scanner.detection.lexicon import KINDS, Lexicons, load_lexicons
from scanner.detection.platform import platform_key
from scanner.detection.register import RegisterMatch, match_register
from scanner.detection.signals import SignalHit, scan_windows
from scanner.detection.urlcues import with_url_signals
from scanner.detection.verdict import (
    Analysis,
    CryptoJudgement,
    build_analysis,
    combined_digest,
    judge_crypto,
    judge_pakistan,
)

__all__ = [
    "KINDS",
    "Analysis",
    "Document",
    "Extracted",
    "Lexicons",
    "RegisterMatch",
    "SignalHit",
    "aggregate",
    "analyze",
    "decode_body",
    "load_lexicons",
    "match_register",
    "platform_key",
]


def analyze(doc: Document, lexicons: Lexicons, register: Register | None) -> Analysis:
    """Signals, the three judgements, score and verdict for one document."""
    digest = TextDigest()
    signals = with_url_signals(scan_windows(doc.windows(), lexicons, digest), doc.url, lexicons)
    key = platform_key(doc.url) if doc.url else ""
    match = match_register(doc.url, register) if doc.url else None
    return build_analysis(
        source=doc.url,
        platform=key,
        signals=signals,
        crypto=judge_crypto(signals, lexicons),
        pakistan=judge_pakistan(signals, lexicons),
        match=match,
        lex=lexicons,
        digest=digest.hexdigest(),
    )


def aggregate(
    platform_key: str, analyses: Iterable[Analysis], lexicons: Lexicons, register: Register | None
) -> Analysis:
    """One platform-level verdict over documents of one platform.

    The crypto judgement is made per document (a news page on the platform must not cancel the
    service cues of its trading page) and the strongest one is kept; Pakistani targeting is judged
    on the union of every document's signals. Signals carry ``source`` (the document URL).

    ``analyses`` is read once, in any order, keeping only the strongest judgement and signals: a
    platform of many thousand documents is judged without holding them all (the store streams
    them). Ties go to the document first in (source, content digest) order, then the one given
    first, as sorting the documents by that key would decide.
    """
    best: CryptoJudgement | None = None
    best_rank: tuple[str, str, int] = ("", "", 0)
    union: dict[tuple[str, str], tuple[SignalHit, tuple[str, str, int]]] = {}
    digests: list[str] = []
    for index, a in enumerate(analyses):
        rank = (a.source, a.content_digest, index)
        digests.append(a.content_digest)
        judgement = judge_crypto(a.signals, lexicons)
        if best is None or _stronger(
            (judgement.offered, judgement.strength), rank, (best.offered, best.strength), best_rank
        ):
            best, best_rank = judgement, rank
        for s in a.signals:
            key = (s.kind, s.value)
            held = union.get(key)
            if held is None or _stronger(s.weight, rank, held[0].weight, held[1]):
                hit = SignalHit(
                    s.kind, s.value, s.snippet, s.locator, s.weight, s.corroborating, s.source or a.source
                )
                union[key] = (hit, rank)
    if best is None:
        best = judge_crypto([], lexicons)
    elif best_rank[0]:
        best.reasons.insert(1, f"decided on document {best_rank[0]}")
    cap = lexicons.scoring.max_signals_per_kind
    per_kind: dict[str, list[SignalHit]] = {}
    for s, _ in union.values():
        per_kind.setdefault(s.kind, []).append(s)
    signals: list[SignalHit] = []
    for kind in KINDS:
        kept = sorted(per_kind.get(kind, []), key=lambda s: (-s.weight, s.source or "", s.value))[:cap]
        signals.extend(kept)
    pakistan = judge_pakistan([s for s in signals if s.kind != "non_service_context"], lexicons)
    return build_analysis(
        source=platform_key,
        platform=platform_key,
        signals=signals,
        crypto=best,
        pakistan=pakistan,
        match=match_register(platform_key, register),
        lex=lexicons,
        digest=combined_digest(digests),
    )


def _stronger(strength: Any, rank: tuple[str, str, int], than: Any, than_rank: tuple[str, str, int]) -> bool:
    """``strength`` beats ``than``: greater, or as great and from a document ranked earlier."""
    return bool(strength > than or (strength == than and rank < than_rank))
