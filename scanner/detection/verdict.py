"""Judgements, score and verdict from signals.

Three judgements, each explained by the signals that decided it:

- ``crypto_service``: the page offers crypto trading/exchange/P2P. Needs an offer (a service phrase,
  P2P ad fields, exchange-operation vocabulary, a trading pair or a PKR quote, not just a generic
  "buy"/"deposit"), something crypto
  (an asset, a pair, Urdu crypto vocabulary, or ``min_exchange_products`` products of a crypto
  exchange named together: P2P next to its ad posting or spot trading), and a strength at or above
  the threshold: per kind the capped sum of its signal weights times the kind's fitted multiplier,
  minus ``context_factor`` times the ``non_service_context`` cues (news, education, warnings, shop,
  bank, broker, regulator). On an operating guide for one platform (a signal of a rule marked
  ``operating_guide``: a how-to heading naming one exchange, the exchange's own help centre) the cues
  of ``guide_uncounted_context`` (education) are listed, not counted.
  In a table of interface strings (an ``interface_strings`` signal: an app's locale file, see
  ``scanner.detection.shape``) the lexicon's ``interface_label`` terms (buy, log in, select, the
  verification code) are the labels of any app's buttons: listed, not counted; so are those found
  first in a locale table a page ships in its JSON state (crypto.yaml ``locale_store_keys``).
- ``targets_pakistan``: the same weighted sum over Pakistani kinds, at or above the threshold.
  *Corroborating* signals (``Rs``/``₨`` amounts, Roman Urdu) count only when firm signals already
  reach ``corroboration_min``: alone they could be Indian, Sri Lankan or Nepali.

Multipliers, ``context_factor`` and thresholds are fitted on labelled data by ``bench/fit_weights.py``
and written to ``config/lexicons/scoring.yaml``; nothing is fitted at detection time.
- ``licensed``: the platform is on the register with status ``licensed``. An NOC does not clear.

``flag`` = crypto_service and targets_pakistan and not licensed. ``score`` in 0..1 ranks findings:
``(1 - e^(-crypto/scale)) * (1 - e^(-pakistan/scale))``, scaled down for licensed platforms.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.detection.lexicon import Lexicons
from scanner.detection.register import RegisterMatch
from scanner.detection.signals import SignalHit

MAX_REASONS = 8


@dataclass
class Analysis:
    """The detection result for one document, or for one platform over many documents."""

    source: str
    verdict: str  # "flag" | "clear"
    score: float
    crypto_service: bool
    targets_pakistan: bool
    licensed: bool
    licence_status: str | None
    platform: str
    signals: list[SignalHit] = field(default_factory=list)
    explanation: dict[str, list[str]] = field(default_factory=dict)
    content_digest: str = ""
    strengths: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The one serialisation of a result: the CLI prints it, the store keeps it, `from_json` reads it."""
        return {
            "source": self.source,
            "verdict": self.verdict,
            "score": self.score,
            "crypto_service": self.crypto_service,
            "targets_pakistan": self.targets_pakistan,
            "licensed": self.licensed,
            "platform": self.platform,
            "signals": [s.to_json() for s in self.signals],
            "licence_status": self.licence_status,
            "explanation": self.explanation,
            "content_digest": self.content_digest,
            "strengths": dict(self.strengths),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Analysis:
        return cls(
            source=data["source"], verdict=data["verdict"], score=data["score"],
            crypto_service=data["crypto_service"], targets_pakistan=data["targets_pakistan"],
            licensed=data["licensed"], licence_status=data.get("licence_status"), platform=data["platform"],
            signals=[SignalHit.from_json(s) for s in data.get("signals", [])],
            explanation=data.get("explanation", {}), content_digest=data.get("content_digest", ""),
            strengths=data.get("strengths", {}),
        )  # fmt: skip


@dataclass
class Evidence:
    """Per-kind evidence of one judgement: the capped sum of each kind's raw signal weights.

    These sums are the features ``bench/fit_weights.py`` fits the per-kind multipliers
    (``scoring.yaml`` ``weights``) on; a judgement's strength is ``sum(multiplier * sum)``.
    """

    by_kind: dict[str, float]
    deciding: list[SignalHit]


def _capped_sum(signals: Iterable[SignalHit], kinds: set[str], caps: dict[str, float]) -> Evidence:
    by_kind: dict[str, float] = {}
    deciding: list[SignalHit] = []
    for s in signals:
        if s.kind in kinds:
            by_kind[s.kind] = by_kind.get(s.kind, 0.0) + s.weight
            deciding.append(s)
    for kind, value in by_kind.items():
        if kind in caps:
            by_kind[kind] = min(value, caps[kind])
    return Evidence(by_kind, deciding)


def _weighted(evidence: Evidence, weights: dict[str, float]) -> float:
    return round(sum(weights.get(kind, 1.0) * value for kind, value in evidence.by_kind.items()), 4)


def _explained(evidence: Evidence, weights: dict[str, float]) -> list[SignalHit]:
    """The deciding signals: the strongest of every kind first (so each contributing kind is named
    within the first few reasons), then the others; strongest fitted weight first within each."""
    ranked = sorted(evidence.deciding, key=lambda s: (-s.weight * weights.get(s.kind, 1.0), s.kind, s.value))
    leader: dict[str, SignalHit] = {}
    for s in ranked:
        leader.setdefault(s.kind, s)
    # `s not in leaders`: only the leader of s's kind can equal s (equal signals have one kind), and
    # one of another value cannot; the dataclass __eq__ (tuples of every field) runs only past that.
    return list(leader.values()) + [
        s for s in ranked if not ((first := leader[s.kind]) is s or (first.value == s.value and first == s))
    ]


def _describe(s: SignalHit, multiplier: float = 1.0) -> str:
    where = f"{s.source} " if s.source else ""
    weight = (
        f"{s.weight * multiplier:.3g}"
        if multiplier == 1.0
        else f"{s.weight * multiplier:.3g} = {s.weight:g} x {multiplier:g}"
    )
    return f"{s.kind} {s.value!r} (weight {weight}) at {where}{s.locator}"


@dataclass
class CryptoJudgement:
    offered: bool
    strength: float
    reasons: list[str]


@dataclass
class PakistanJudgement:
    targeted: bool
    strength: float
    reasons: list[str]


@dataclass
class CryptoEvidence:
    base: Evidence
    context: Evidence
    has_offer: bool  # a service phrase, P2P ad field, pair or PKR quote of at least offer_min_weight
    has_asset: bool  # something crypto: an asset, a pair, Urdu crypto vocabulary
    # In a table of interface strings (an app's locale file): the labels every app has (buy, log in,
    # select, verification code), found but not counted.
    labels: list[SignalHit] = field(default_factory=list)
    table: SignalHit | None = None
    # An operating guide for one platform (a how-to heading naming one exchange, the exchange's own
    # help centre): its explainer cues introduce the product it operates, found but not counted.
    guide: SignalHit | None = None
    uncounted_context: list[SignalHit] = field(default_factory=list)
    # A page's JSON state carrying the app's locale table (next-i18next's store, ...): where it sits;
    # its labels (``labels``) are found but not counted, as in a locale file.
    store: str | None = None
    # In a table of interface strings: the cues that are the app's tooltips and alerts (a "caution"
    # about slippage, a fee's "explanation", a "price" label), found but not counted.
    table_context: list[SignalHit] = field(default_factory=list)
    # Something crypto without a coin named: the products of a crypto exchange named together (P2P
    # next to spot trading or ad posting), as a PKR P2P ad form or an exchange's deposit page shows.
    products: list[SignalHit] = field(default_factory=list)


def _guide_and_store(signals: Sequence[SignalHit], lex: Lexicons) -> tuple[SignalHit | None, list[SignalHit]]:
    """One pass over the signals: the first of a rule marked operating_guide (when the scoring
    leaves some context uncounted there), and the interface labels found first in a locale table
    that a page's JSON state carries (crypto.yaml ``locale_store_keys``: next-i18next's
    ``initialI18nStore``, ...). Such a label's first occurrence is in the store only when the page's
    own text does not say it: a page that shows "Buy" is located at the page, and counts."""
    guides = lex.operating_guides if lex.scoring.crypto.guide_uncounted_context else frozenset()
    markers = lex.locale_store_markers
    labels = lex.interface_labels
    guide: SignalHit | None = None
    stored: list[SignalHit] = []
    for s in signals:
        if guide is None and guides and (s.kind, s.value) in guides:
            guide = s
        if markers and "#/" in s.locator and (s.kind, s.value) in labels:
            if any(marker in s.locator for marker in markers):
                stored.append(s)
    return guide, stored


def _store_of(locator: str, lex: Lexicons) -> str:
    """The locator of the store a signal sits in (up to its store key)."""
    for marker in lex.locale_store_markers:
        at = locator.find(marker)
        if at >= 0:
            return locator[: at + len(marker) - 1]
    return locator


def _guide_context(
    signals: Sequence[SignalHit], guide: SignalHit | None, lex: Lexicons
) -> tuple[SignalHit | None, Sequence[SignalHit], list[SignalHit]]:
    """(the operating-guide signal, signals holding the context cues that count, the cues that do
    not) of a document.

    By the label rule an operating guide for one platform is a service, whatever explainer sections
    it opens with ("what is a DCA bot, how does it work" before the steps): on such a page the cues
    of ``guide_uncounted_context`` (education) say what the guide introduces, not that the page is no
    service. News, warnings, reports and the rest still count."""
    if guide is None:
        return None, signals, []
    context = [s for s in signals if s.kind == "non_service_context"]
    return guide, *_split_context(context, lex.scoring.crypto.guide_uncounted_context)


def _split_context(
    context: Sequence[SignalHit], uncounted: Iterable[str]
) -> tuple[list[SignalHit], list[SignalHit]]:
    """(the context cues that count, those of the ``uncounted`` categories)."""
    categories = set(uncounted)
    counted = [s for s in context if s.value.partition(": ")[0] not in categories]
    return counted, [s for s in context if s.value.partition(": ")[0] in categories]


def crypto_evidence(signals: Sequence[SignalHit], lex: Lexicons) -> CryptoEvidence:
    sc = lex.scoring
    cfg = sc.crypto
    # Signals come in kind order (signals.py, urlcues.py and `aggregate` sort them so) and
    # interface_strings is the last kind: looked at without another pass over the signals.
    table = signals[-1] if signals and signals[-1].kind == "interface_strings" else None
    labels: list[SignalHit] = []
    if table is not None:
        # An app's strings name its buttons: "buy", "log in", "select" say what any app's interface
        # has, not what this one offers. What it offers is in the other strings (spot trading, the
        # order book, P2P, pairs, Pakistani rails).
        is_label = lex.interface_labels.__contains__
        labels = [s for s in signals if is_label((s.kind, s.value))]
        if labels:
            signals = [s for s in signals if not is_label((s.kind, s.value))]
    found_guide, stored = _guide_and_store(signals, lex)
    store = None
    if stored and table is None:
        # The same for a locale table a page ships in its JSON state: its buttons are the app's
        # labels, not what the page shows its reader.
        labels, store = stored, _store_of(stored[0].locator, lex)
        left_out = {id(s) for s in stored}
        signals = [s for s in signals if id(s) not in left_out]
    guide, context, uncounted = _guide_context(signals, found_guide, lex)
    naming = lex.asset_phrases
    has_asset = any(s.kind in cfg.asset_kinds or (s.kind, s.value) in naming for s in signals)
    named = _exchange_products(signals, lex) if table is not None or not has_asset else []
    products: list[SignalHit] = []
    if not has_asset and cfg.min_exchange_products:
        products = named
        has_asset = len(products) >= cfg.min_exchange_products
    table_uncounted: list[SignalHit] = []
    if table is not None and named and cfg.table_uncounted_context:
        # An app whose strings hold its own trade form (a swap with its slippage, an order type, a
        # pool, P2P): its alerts and tooltips are interface text, not a document that warns or explains.
        context, table_uncounted = _split_context(context, cfg.table_uncounted_context)
    return CryptoEvidence(
        base=_capped_sum(signals, set(cfg.kinds), sc.kind_caps),
        context=_capped_sum(context, {"non_service_context"}, sc.kind_caps),
        has_offer=any(s.kind in cfg.offer_kinds and s.weight >= cfg.offer_min_weight for s in signals),
        has_asset=has_asset,
        labels=labels,
        table=table,
        guide=guide,
        uncounted_context=uncounted,
        table_context=table_uncounted,
        products=products if has_asset else [],
        store=store,
    )


def _exchange_products(signals: Sequence[SignalHit], lex: Lexicons) -> list[SignalHit]:
    """One signal per distinct crypto exchange product the document names (crypto.yaml terms with an
    ``exchange_product``). Looked at only when nothing crypto was found otherwise."""
    named = lex.exchange_products
    first: dict[str, SignalHit] = {}
    for s in signals:
        product = named.get((s.kind, s.value))
        if product is not None:
            first.setdefault(product, s)
    return list(first.values())


def judge_crypto(signals: Sequence[SignalHit], lex: Lexicons) -> CryptoJudgement:
    cfg = lex.scoring.crypto
    ev = crypto_evidence(signals, lex)
    total = _weighted(ev.base, cfg.weights)
    context = round(sum(ev.context.by_kind.values()), 4)
    net = round(total - cfg.context_factor * context, 4)
    offered = ev.has_offer and ev.has_asset and net >= cfg.threshold
    reasons: list[str] = []
    verdict = "yes" if offered else "no"
    reasons.append(
        f"{verdict}: crypto strength {total:g} - {cfg.context_factor:g} x context {context:g} = {net:g} "
        f"(threshold {cfg.threshold:g})"
    )
    if not ev.has_offer:
        reasons.append(
            "no crypto offer: no service phrase, P2P ad fields, exchange operation, trading pair or PKR quote"
        )
    if not ev.has_asset:
        reasons.append(
            "nothing crypto: no asset, pair or Urdu crypto term, nor the products of a crypto exchange named together"
        )
    elif ev.products:
        names = ", ".join(f"{lex.exchange_products[(s.kind, s.value)]} ({s.value!r})" for s in ev.products)
        reasons.append(f"something crypto: a crypto exchange's products named together: {names}"[:400])
    if ev.table is not None:
        note = f"interface strings: {ev.table.snippet}"
        if ev.labels:
            names = ", ".join(sorted({repr(s.value) for s in ev.labels}))
            note += f"; its labels every app has are not counted: {names}"
        if ev.table_context:
            names = ", ".join(sorted({repr(s.value) for s in ev.table_context}))
            note += f"; next to its own trade form, nor its tooltips and alerts as context: {names}"
        reasons.append(note[:400])
    elif ev.store is not None:
        names = ", ".join(sorted({repr(s.value) for s in ev.labels}))
        reasons.append(
            f"locale strings in the page's state at {ev.store}: its labels every app has are not counted: {names}"[
                :400
            ]
        )
    if ev.guide is not None and ev.uncounted_context:
        names = ", ".join(sorted({repr(s.value) for s in ev.uncounted_context}))
        reasons.append(
            f"operating guide for one platform ({ev.guide.kind} {ev.guide.value!r} at {ev.guide.locator}): "
            f"its explainer cues are not counted: {names}"[:400]
        )
    for s in _explained(ev.base, cfg.weights)[:MAX_REASONS]:
        reasons.append("for: " + _describe(s, cfg.weights.get(s.kind, 1.0)))
    for s in _explained(ev.context, {})[:MAX_REASONS]:
        reasons.append("against: " + _describe(s, cfg.context_factor))
    return CryptoJudgement(offered, max(net, 0.0), reasons)


@dataclass
class PakistanEvidence:
    counted: Evidence  # firm signals, plus corroborating ones when the firm ones reach corroboration_min
    firm_total: float
    uncounted_soft: list[SignalHit]


def pakistan_evidence(signals: Sequence[SignalHit], lex: Lexicons) -> PakistanEvidence:
    sc = lex.scoring
    cfg = sc.pakistan
    kinds = set(cfg.kinds)
    firm = _capped_sum([s for s in signals if not s.corroborating], kinds, sc.kind_caps)
    firm_total = round(sum(firm.by_kind.values()), 4)
    soft = [s for s in signals if s.corroborating and s.kind in kinds]
    if soft and firm_total >= cfg.corroboration_min:
        return PakistanEvidence(
            _capped_sum([s for s in signals if s.kind in kinds], kinds, sc.kind_caps), firm_total, []
        )
    return PakistanEvidence(firm, firm_total, soft)


def judge_pakistan(signals: Sequence[SignalHit], lex: Lexicons) -> PakistanJudgement:
    cfg = lex.scoring.pakistan
    ev = pakistan_evidence(signals, lex)
    total = _weighted(ev.counted, cfg.weights)
    targeted = total >= cfg.threshold
    reasons = [f"{'yes' if targeted else 'no'}: Pakistan strength {total:g} (threshold {cfg.threshold:g})"]
    for s in _explained(ev.counted, cfg.weights)[:MAX_REASONS]:
        reasons.append("for: " + _describe(s, cfg.weights.get(s.kind, 1.0)))
    if ev.uncounted_soft:
        reasons.append(
            f"not counted without firm Pakistani signals (firm {ev.firm_total:g} < {cfg.corroboration_min:g}): "
            + ", ".join(sorted({f"{s.kind} {s.value!r}" for s in ev.uncounted_soft}))[:300]
        )
    return PakistanJudgement(targeted, total, reasons)


def judge_licence(
    match: RegisterMatch | None, signals: Sequence[SignalHit]
) -> tuple[bool, str | None, list[str]]:
    claims = [s for s in signals if s.kind == "regulatory_claim"]
    reasons: list[str] = []
    if match is None:
        reasons.append("no: platform not on the licensed register")
    elif match.licensed:
        reasons.append(f"yes: register entry {match.entry.name!r} (status licensed) matched by {match.how}")
    else:
        reasons.append(
            f"no: register entry {match.entry.name!r} matched by {match.how} has status {match.status!r}, "
            "which does not clear (an NOC is not a licence)"
        )
    if claims and (match is None or not match.licensed):
        names = ", ".join(sorted({s.value for s in claims}))
        reasons.append(
            f"the page names Pakistani regulators or licence claims ({names}); the register does not confirm a licence"
        )
    return (match is not None and match.licensed), (match.status if match else None), reasons


def score_of(crypto: float, pakistan: float, licensed: bool, lex: Lexicons) -> float:
    sc = lex.scoring
    value = (1 - math.exp(-crypto / sc.crypto.scale)) * (1 - math.exp(-pakistan / sc.pakistan.scale))
    if licensed:
        value *= sc.licensed_score_factor
    return round(min(max(value, 0.0), 1.0), 4)


def build_analysis(
    source: str,
    platform: str,
    signals: list[SignalHit],
    crypto: CryptoJudgement,
    pakistan: PakistanJudgement,
    match: RegisterMatch | None,
    lex: Lexicons,
    digest: str,
) -> Analysis:
    licensed, status, licence_reasons = judge_licence(match, signals)
    flag = crypto.offered and pakistan.targeted and not licensed
    verdict_reasons = [
        "flag: offers a crypto service, targets Pakistan and is not licensed"
        if flag
        else "clear: "
        + "; ".join(
            reason
            for reason, applies in (
                ("no crypto service offered", not crypto.offered),
                ("does not target Pakistan", not pakistan.targeted),
                ("licensed platform", licensed),
            )
            if applies
        )
    ]
    return Analysis(
        source=source,
        verdict="flag" if flag else "clear",
        score=score_of(crypto.strength, pakistan.strength, licensed, lex),
        crypto_service=crypto.offered,
        targets_pakistan=pakistan.targeted,
        licensed=licensed,
        licence_status=status,
        platform=platform,
        signals=signals,
        explanation={
            "verdict": verdict_reasons,
            "crypto_service": crypto.reasons,
            "targets_pakistan": pakistan.reasons,
            "licensed": licence_reasons,
        },
        content_digest=digest,
        strengths={"crypto": crypto.strength, "pakistan": pakistan.strength},
    )


def combined_digest(digests: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()
