"""Fit the per-kind weights and thresholds of the two judgements on bench/realworld/dev.

Run: ``.venv/bin/python bench/fit_weights.py`` (prints cross-validated figures and the fitted
numbers) and ``--write`` to store them in ``config/lexicons/scoring.yaml`` between the
``fitted-begin``/``fitted-end`` markers. Only the dev part is read; the frozen test part is measured
by ``bench/detect.py`` and never used here.

The model is the detector's own decision rule, so the fitted numbers are exactly what runs:
``flag = offer_and_asset_gate * [z_crypto >= 0] * [z_pakistan >= 0] * not licensed`` with
``z_crypto = sum_k b_k * x_k - c * context + b_0`` over the capped per-kind sums ``x_k`` that
``scanner.detection.verdict`` computes (``crypto_evidence``/``pakistan_evidence``), and likewise for
Pakistan. The flag probability is ``sigmoid(z_crypto) * sigmoid(z_pakistan)`` (both judgements must
hold); it is fitted to the flag/clear labels by maximum likelihood with Adam, weights kept >= 0, and an
L2 pull toward the hand-set lexicon (multiplier 1, current thresholds), so a kind with little
evidence in the data keeps its hand weight. The regularisation strength is chosen by 5-fold
cross-validation grouped by source (held-out log loss) (a site never sits in both the fitting and the scored folds),
among the strengths whose fit keeps every unit-corpus verdict.
Written back, the multipliers are normalised so the thresholds keep their units.

Plain Python on purpose: ~20 parameters and ~200 documents fit in seconds without numpy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realworld_data import REPO, UNIT_REGISTER, Labelled, load_part, load_register, load_unit_corpus  # noqa: E402

from scanner.detection import analyze, load_lexicons  # noqa: E402
from scanner.detection.lexicon import Lexicons  # noqa: E402
from scanner.detection.verdict import crypto_evidence, pakistan_evidence  # noqa: E402

SCORING = REPO / "config" / "lexicons" / "scoring.yaml"
PRIOR_SLOPE = 4.0  # logit units per unit of strength at the hand-set weights
LAMBDAS = (0.003, 0.01, 0.03, 0.1)
FOLDS = 5


@dataclass
class Row:
    """One document as the judgements see it."""

    crypto: dict[str, float]  # capped per-kind sums of crypto kinds
    context: float  # capped sum of non_service_context cues
    gate: bool  # an offer and something crypto exist (the judgement's hard preconditions)
    pakistan: dict[str, float]  # capped per-kind sums of Pakistani kinds (corroboration rule applied)
    licensed: bool
    flag: bool = False
    source: str = ""
    always_train: bool = False  # unit-corpus rows: in every training fold, never scored


@dataclass
class Params:
    crypto: dict[str, float]
    context: float
    crypto_bias: float
    pakistan: dict[str, float]
    pakistan_bias: float
    history: list[float] = field(default_factory=list)

    def z_crypto(self, r: Row) -> float:
        return (
            sum(self.crypto[k] * v for k, v in r.crypto.items()) - self.context * r.context + self.crypto_bias
        )

    def z_pakistan(self, r: Row) -> float:
        return sum(self.pakistan[k] * v for k, v in r.pakistan.items()) + self.pakistan_bias

    def flags(self, rows: Sequence[Row]) -> list[bool]:
        return [r.gate and not r.licensed and self.z_crypto(r) >= 0 and self.z_pakistan(r) >= 0 for r in rows]


def rows_of(docs: Sequence[Labelled], lex: Lexicons, register_path: Path | None = None) -> list[Row]:
    register = load_register(register_path) if register_path else load_register()
    rows = []
    for d in docs:
        a = analyze(d.document(), lex, register)
        ce, pe = crypto_evidence(a.signals, lex), pakistan_evidence(a.signals, lex)
        rows.append(
            Row(
                dict(ce.base.by_kind),
                sum(ce.context.by_kind.values()),
                ce.has_offer and ce.has_asset,
                dict(pe.counted.by_kind),
                a.licensed,
                d.flag,
                d.source,
                d.part == "unit-corpus",
            )
        )
    return rows


def training_rows(lex: Lexicons) -> list[Row]:
    """dev/ plus the unit-test corpus (the latter only ever trains, so existing verdicts are kept)."""
    return rows_of(load_part("dev"), lex) + rows_of(load_unit_corpus(), lex, UNIT_REGISTER)


def prior(lex: Lexicons) -> Params:
    sc = lex.scoring
    return Params(
        crypto={k: PRIOR_SLOPE for k in sc.crypto.kinds},
        context=PRIOR_SLOPE * 1.0,
        crypto_bias=-PRIOR_SLOPE * sc.crypto.threshold,
        pakistan={k: PRIOR_SLOPE for k in sc.pakistan.kinds},
        pakistan_bias=-PRIOR_SLOPE * sc.pakistan.threshold,
    )


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def fit(rows: Sequence[Row], lex: Lexicons, lam: float, iters: int = 1500, lr: float = 0.05) -> Params:
    """Maximum likelihood of the flag labels under the two-judgement model, L2-pulled to the prior."""
    p0 = prior(lex)
    names = (
        [("c", k) for k in p0.crypto]
        + [("ctx", ""), ("cb", "")]
        + [("p", k) for k in p0.pakistan]
        + [("pb", "")]
    )
    theta = [_get(p0, n) for n in names]
    centre = list(theta)
    m = [0.0] * len(theta)
    v = [0.0] * len(theta)
    index = {n: i for i, n in enumerate(names)}
    usable = [r for r in rows if r.gate and not r.licensed]  # others are clear whatever the weights
    n = max(len(rows), 1)
    p = p0
    for step in range(1, iters + 1):
        p = _params(names, theta)
        grad = [lam * (t - c) for t, c in zip(theta, centre, strict=True)]
        loss = 0.0
        for r in usable:
            a, b = _sigmoid(p.z_crypto(r)), _sigmoid(p.z_pakistan(r))
            prob = min(max(a * b, 1e-9), 1 - 1e-9)
            y = 1.0 if r.flag else 0.0
            loss -= y * math.log(prob) + (1 - y) * math.log(1 - prob)
            common = (y - prob) / (1 - prob)
            gc, gp = -(1 - a) * common / n, -(1 - b) * common / n
            for k, x in r.crypto.items():
                grad[index[("c", k)]] += gc * x
            grad[index[("ctx", "")]] -= gc * r.context
            grad[index[("cb", "")]] += gc
            for k, x in r.pakistan.items():
                grad[index[("p", k)]] += gp * x
            grad[index[("pb", "")]] += gp
        for i, g in enumerate(grad):  # Adam step, then keep evidence weights non-negative
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            theta[i] -= lr * (m[i] / (1 - 0.9**step)) / (math.sqrt(v[i] / (1 - 0.999**step)) + 1e-8)
            if names[i][0] in ("c", "p", "ctx"):
                theta[i] = max(theta[i], 0.0)
        p.history.append(loss / n)
    return _params(names, theta)


def _get(p: Params, name: tuple[str, str]) -> float:
    kind, key = name
    return {
        "c": lambda: p.crypto[key],
        "ctx": lambda: p.context,
        "cb": lambda: p.crypto_bias,
        "p": lambda: p.pakistan[key],
        "pb": lambda: p.pakistan_bias,
    }[kind]()


def _params(names: list[tuple[str, str]], theta: list[float]) -> Params:
    p = Params({}, 0.0, 0.0, {}, 0.0)
    for (kind, key), t in zip(names, theta, strict=True):
        if kind == "c":
            p.crypto[key] = t
        elif kind == "p":
            p.pakistan[key] = t
        elif kind == "ctx":
            p.context = t
        elif kind == "cb":
            p.crypto_bias = t
        else:
            p.pakistan_bias = t
    return p


def folds_of(rows: Sequence[Row], k: int = FOLDS) -> list[int]:
    """Fold of each row: sources are spread over folds by the hash of their name."""
    return [int(hashlib.sha256(r.source.encode()).hexdigest(), 16) % k for r in rows]


def probability(p: Params, r: Row) -> float:
    if not r.gate or r.licensed:
        return 0.0
    return _sigmoid(p.z_crypto(r)) * _sigmoid(p.z_pakistan(r))


def cross_validated(rows: Sequence[Row], lex: Lexicons, lam: float) -> tuple[list[bool], float]:
    """Each dev row's flag predicted by a model fitted on the other folds (plus the always-train
    rows), and the mean held-out log loss. Always-train rows get no prediction (False)."""
    folds = folds_of(rows)
    predicted = [False] * len(rows)
    scored = [i for i, r in enumerate(rows) if not r.always_train]
    loss = 0.0
    for f in range(FOLDS):
        train = [r for r, g in zip(rows, folds, strict=True) if r.always_train or g != f]
        params = fit(train, lex, lam)
        held = [i for i in scored if folds[i] == f]
        for i, flag in zip(held, params.flags([rows[i] for i in held]), strict=True):
            predicted[i] = flag
            prob = min(max(probability(params, rows[i]), 1e-6), 1 - 1e-6)
            loss -= math.log(prob) if rows[i].flag else math.log(1 - prob)
    return predicted, loss / max(len(scored), 1)


def f1(rows: Sequence[Row], predicted: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(p and r.flag for r, p in zip(rows, predicted, strict=True))
    fp = sum(p and not r.flag for r, p in zip(rows, predicted, strict=True))
    fn = sum(r.flag and not p for r, p in zip(rows, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


@dataclass
class Fitted:
    """The fitted numbers in the units of scoring.yaml (thresholds unchanged, multipliers scaled)."""

    crypto_weights: dict[str, float]
    context_factor: float
    crypto_threshold: float
    pakistan_weights: dict[str, float]
    pakistan_threshold: float


def to_config(p: Params, lex: Lexicons) -> Fitted:
    sc = lex.scoring
    if p.crypto_bias >= 0 or p.pakistan_bias >= 0:
        raise ValueError("fitted bias is not negative: the data do not support a positive threshold")
    cs, ps = sc.crypto.threshold / -p.crypto_bias, sc.pakistan.threshold / -p.pakistan_bias
    return Fitted(
        {k: round(v * cs, 3) for k, v in p.crypto.items()},
        round(p.context * cs, 3),
        sc.crypto.threshold,
        {k: round(v * ps, 3) for k, v in p.pakistan.items()},
        sc.pakistan.threshold,
    )


def _flow(d: dict[str, float]) -> str:
    return "{" + ", ".join(f"{k}: {v:g}" for k, v in d.items()) + "}"


def write_scoring(fitted: Fitted, note: str, path: Path = SCORING) -> None:
    """Replace the blocks between ``# fitted-begin`` and ``# fitted-end`` in scoring.yaml."""
    text = path.read_text(encoding="utf-8")
    blocks = {
        "crypto": [
            f"  weights: {_flow(fitted.crypto_weights)}",
            f"  context_factor: {fitted.context_factor:g}",
            f"  threshold: {fitted.crypto_threshold:g}",
        ],
        "pakistan": [
            f"  weights: {_flow(fitted.pakistan_weights)}",
            f"  threshold: {fitted.pakistan_threshold:g}",
        ],
    }
    for section, lines in blocks.items():
        pattern = re.compile(
            rf"(^{section}:\n(?:.*\n)*?)  # fitted-begin.*\n(?:.*\n)*?  # fitted-end\n", re.M
        )
        if not pattern.search(text):
            raise ValueError(f"{path}: no '# fitted-begin' ... '# fitted-end' block under '{section}:'")
        block = "\n".join([f"  # fitted-begin ({note})", *lines, "  # fitted-end"]) + "\n"
        text = pattern.sub(lambda m, block=block: m.group(1) + block, text, count=1)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--write", action="store_true", help="store the fitted numbers in config/lexicons/scoring.yaml"
    )
    args = ap.parse_args(argv)
    lex = load_lexicons(REPO / "config" / "lexicons")
    rows = training_rows(lex)
    dev = [r for r in rows if not r.always_train]
    unit = [r for r in rows if r.always_train]
    print(
        f"dev: {len(dev)} documents, {sum(r.flag for r in dev)} flag, {len({r.source for r in dev})} sources; "
        f"plus {len(unit)} unit-corpus documents in every training fold"
    )
    p, r, _ = f1(dev, prior(lex).flags(dev))
    print(
        f"hand-set lexicon weights (multipliers 1, context factor 1) on dev: precision {p:.3f} recall {r:.3f}"
    )
    best = None
    for lam in LAMBDAS:  # chosen by held-out log loss: smoother than F1 on ~30 positives
        predicted, loss = cross_validated(rows, lex, lam)
        p, r, f = f1(dev, [x for x, row in zip(predicted, rows, strict=True) if not row.always_train])
        # The unit corpus is hand-labelled behaviour the tests pin: a strength whose full fit flips one
        # of its verdicts is not eligible, however close its held-out loss (they differ in the 3rd decimal).
        flips = sum(got != row.flag for row, got in zip(unit, fit(rows, lex, lam).flags(unit), strict=True))
        print(
            f"  L2 {lam:<6g} {FOLDS}-fold grouped CV: log loss {loss:.4f}  precision {p:.3f} recall {r:.3f} F1 {f:.3f}"
            f"  unit corpus flipped: {flips}"
        )
        if not flips and (best is None or loss < best[1] - 1e-9):
            best = (lam, loss)
    if best is None:
        raise SystemExit("every L2 strength flips a unit-corpus verdict: nothing written")
    lam = best[0]
    params = fit(rows, lex, lam)
    fitted = to_config(params, lex)
    p, r, f = f1(dev, params.flags(dev))
    wrong_unit = [
        i for i, (row, got) in enumerate(zip(unit, params.flags(unit), strict=True)) if got != row.flag
    ]
    print(
        f"chosen L2 {lam:g}; fitted on all of dev: precision {p:.3f} recall {r:.3f} F1 {f:.3f}; "
        f"unit corpus misclassified: {len(wrong_unit)}"
    )
    print(f"crypto: context_factor {fitted.context_factor:g}, threshold {fitted.crypto_threshold:g}")
    for k, val in fitted.crypto_weights.items():
        print(f"  {k:<20} x {val:g}")
    print(f"pakistan: threshold {fitted.pakistan_threshold:g}")
    for k, val in fitted.pakistan_weights.items():
        print(f"  {k:<20} x {val:g}")
    if args.write:
        note = (
            f"bench/fit_weights.py --write, {dt.date.today().isoformat()}: dev {len(dev)} docs + unit corpus, "
            f"L2 {lam:g} by {FOLDS}-fold grouped CV"
        )
        write_scoring(fitted, note)
        print(f"written to {SCORING.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
