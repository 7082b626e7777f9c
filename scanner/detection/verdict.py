"""Judgements, score and verdict from signals.

Three judgements, each explained by the signals that decided it:

- ``crypto_service``: the page offers crypto trading/exchange/P2P. Needs an offer (a service phrase
  or a trading pair, not just a generic "buy"/"deposit"), something crypto (an asset, a pair, Urdu
  crypto vocabulary), and a strength — capped sum of crypto weights minus the weight of
  ``non_service_context`` cues (news, shop, bank, broker, regulator) — at or above the threshold.
- ``targets_pakistan``: capped sum of Pakistani signals at or above the threshold. *Corroborating*
  signals (``Rs``/``₨`` amounts, Roman Urdu) count only when firm signals already reach
  ``corroboration_min``: alone they could be Indian, Sri Lankan or Nepali.
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
        }


@dataclass
class _Strength:
    total: float
    by_kind: dict[str, float]
    deciding: list[SignalHit]


def _capped_sum(signals: Iterable[SignalHit], kinds: set[str], caps: dict[str, float]) -> _Strength:
    by_kind: dict[str, float] = {}
    deciding: list[SignalHit] = []
    for s in signals:
        if s.kind in kinds:
            by_kind[s.kind] = by_kind.get(s.kind, 0.0) + s.weight
            deciding.append(s)
    for kind, value in by_kind.items():
        if kind in caps:
            by_kind[kind] = min(value, caps[kind])
    deciding.sort(key=lambda s: (-s.weight, s.kind, s.value))
    return _Strength(round(sum(by_kind.values()), 4), by_kind, deciding)


def _describe(s: SignalHit) -> str:
    where = f"{s.source} " if s.source else ""
    return f"{s.kind} {s.value!r} (weight {s.weight:g}) at {where}{s.locator}"


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


def judge_crypto(signals: Sequence[SignalHit], lex: Lexicons) -> CryptoJudgement:
    sc = lex.scoring
    cfg = sc.crypto
    base = _capped_sum(signals, set(cfg.kinds), sc.kind_caps)
    context = _capped_sum(signals, {"non_service_context"}, sc.kind_caps)
    offers = [s for s in signals if s.kind in cfg.offer_kinds and s.weight >= cfg.offer_min_weight]
    assets = [s for s in signals if s.kind in cfg.asset_kinds]
    net = round(base.total - cfg.context_factor * context.total, 4)
    offered = bool(offers) and bool(assets) and net >= cfg.threshold
    reasons: list[str] = []
    verdict = "yes" if offered else "no"
    reasons.append(
        f"{verdict}: crypto strength {base.total:g} - context {context.total:g} = {net:g} "
        f"(threshold {cfg.threshold:g})"
    )
    if not offers:
        reasons.append("no crypto offer: no service phrase, P2P ad fields or trading pair")
    if not assets:
        reasons.append("nothing crypto: no asset, pair or Urdu crypto term")
    for s in base.deciding[:MAX_REASONS]:
        reasons.append("for: " + _describe(s))
    for s in context.deciding[:MAX_REASONS]:
        reasons.append("against: " + _describe(s))
    return CryptoJudgement(offered, max(net, 0.0), reasons)


def judge_pakistan(signals: Sequence[SignalHit], lex: Lexicons) -> PakistanJudgement:
    sc = lex.scoring
    cfg = sc.pakistan
    kinds = set(cfg.kinds)
    firm = _capped_sum([s for s in signals if not s.corroborating], kinds, sc.kind_caps)
    soft = [s for s in signals if s.corroborating and s.kind in kinds]
    counted_soft = firm.total >= cfg.corroboration_min
    if counted_soft and soft:
        combined = _capped_sum([s for s in signals if s.kind in kinds], kinds, sc.kind_caps)
        total, deciding = combined.total, combined.deciding
    else:
        total, deciding = firm.total, firm.deciding
    targeted = total >= cfg.threshold
    reasons = [f"{'yes' if targeted else 'no'}: Pakistan strength {total:g} (threshold {cfg.threshold:g})"]
    for s in deciding[:MAX_REASONS]:
        reasons.append("for: " + _describe(s))
    if soft and not counted_soft:
        reasons.append(
            f"not counted without firm Pakistani signals (firm {firm.total:g} < {cfg.corroboration_min:g}): "
            + ", ".join(sorted({f"{s.kind} {s.value!r}" for s in soft}))[:300]
        )
    return PakistanJudgement(targeted, total, reasons)


def judge_licence(match: RegisterMatch | None, signals: Sequence[SignalHit]) -> tuple[bool, str | None, list[str]]:
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
        reasons.append(f"the page names Pakistani regulators or licence claims ({names}); the register does not confirm a licence")
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
