"""Detection quality on the real-world dataset (bench/realworld/), as printed by bench/detect.py.

- dev part: 5-fold cross-validated, grouped by source (each fold scored by weights fitted without
  it, with bench/fit_weights.py's model, which is the detector's own decision rule);
- frozen parts (``test``, ``test2`` from rounds 4-5, ``test3`` built separately in round 6, ``test4``
  built separately in round 7, ``test5`` built separately in round 9, ``test6`` built separately in
  round 10, ``test7`` built separately in round 11, ``test8`` built separately in round 12, ``test9`` built
  separately in round 13, ``test10`` in round 14 and ``test11`` in round 15, to measure the next version): the
  detector as configured (``config/lexicons``), never used for fitting.

Precision and recall carry 95% Wilson intervals, F1 a 95% bootstrap interval over documents.
Also: per class of document, the misses, and the checks "no Pakistani non-crypto page flagged"
and "no licensed platform flagged". Targets (issue 12): test precision >= 0.97, recall >= 0.95.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fit_weights import FOLDS, LAMBDAS, SCORING, cross_validated, training_rows
from realworld_data import FROZEN_PARTS, PARTS, REPO, Labelled, load_part, load_register

from scanner.detection import analyze, load_lexicons

TARGET_PRECISION = 0.97
TARGET_RECALL = 0.95
# Classes of Pakistani pages that offer no crypto service: none of them may ever be flagged.
PK_NON_CRYPTO = {"pk-bank", "pk-wallet", "pk-shop", "pk-news", "pk-blog", "pk-exchange-company", "pk-broker"}


@dataclass
class Outcome:
    doc: Labelled
    got: bool
    crypto: bool | None = None  # the detector's judgements (None for cross-validated predictions)
    pakistan: bool | None = None
    licensed: bool = False


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (sensible for small n and for 0 or n)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _counts(outcomes: Sequence[Outcome]) -> tuple[int, int, int]:
    tp = sum(o.got and o.doc.flag for o in outcomes)
    fp = sum(o.got and not o.doc.flag for o in outcomes)
    fn = sum(o.doc.flag and not o.got for o in outcomes)
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def bootstrap_f1(outcomes: Sequence[Outcome], rounds: int = 2000, seed: int = 12) -> tuple[float, float]:
    rng = random.Random(seed)
    values = sorted(_f1(*_counts([rng.choice(outcomes) for _ in outcomes])) for _ in range(rounds))
    return values[int(0.025 * rounds)], values[int(0.975 * rounds) - 1]


def summary(label: str, outcomes: Sequence[Outcome], targets: bool = False) -> None:
    tp, fp, fn = _counts(outcomes)
    positives = sum(o.doc.flag for o in outcomes)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    (plo, phi), (rlo, rhi) = wilson(tp, tp + fp), wilson(tp, tp + fn)
    flo, fhi = bootstrap_f1(outcomes)
    print(f"{label}: {len(outcomes)} documents, {positives} flag / {len(outcomes) - positives} clear")
    print(
        f"  precision {precision:.3f} [{plo:.3f}, {phi:.3f}]   recall {recall:.3f} [{rlo:.3f}, {rhi:.3f}]   "
        f"F1 {_f1(tp, fp, fn):.3f} [{flo:.3f}, {fhi:.3f}]   (tp {tp}, fp {fp}, fn {fn})"
    )
    if targets:
        met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        print(
            f"  targets: precision >= {TARGET_PRECISION} {met(precision >= TARGET_PRECISION)}, "
            f"recall >= {TARGET_RECALL} {met(recall >= TARGET_RECALL)}"
        )


def per_class(outcomes: Sequence[Outcome]) -> None:
    classes: dict[str, list[Outcome]] = {}
    for o in outcomes:
        classes.setdefault(o.doc.cls, []).append(o)
    print(f"  {'class':<28}{'docs':>5}{'flag':>6}{'tp':>5}{'fp':>5}{'fn':>5}")
    for cls in sorted(classes, key=lambda c: (-len(classes[c]), c)):
        group = classes[cls]
        tp, fp, fn = _counts(group)
        print(f"  {cls:<28}{len(group):>5}{sum(o.doc.flag for o in group):>6}{tp:>5}{fp:>5}{fn:>5}")


def misses(outcomes: Sequence[Outcome]) -> None:
    wrong = [o for o in outcomes if o.got != o.doc.flag]
    if not wrong:
        print("  misses: none")
        return
    print("  misses:")
    for o in sorted(wrong, key=lambda o: (o.doc.flag, o.doc.cls, o.doc.id)):
        kind = "missed flag" if o.doc.flag else "false flag"
        judged = "" if o.crypto is None else f" (crypto_service {o.crypto}, targets_pakistan {o.pakistan})"
        print(f"    {kind:<11} {o.doc.id} [{o.doc.cls}, {o.doc.source_type}]{judged}: {o.doc.reason}")


def checks(outcomes: Sequence[Outcome]) -> None:
    pk_pages = [o for o in outcomes if o.doc.cls in PK_NON_CRYPTO]
    flagged_pk = [o.doc.id for o in pk_pages if o.got]
    licensed = [o for o in outcomes if o.licensed or o.doc.cls == "licensed-exchange"]
    flagged_lic = [o.doc.id for o in licensed if o.got]
    print(
        f"  no Pakistani non-crypto page flagged: {'yes' if not flagged_pk else 'NO ' + ', '.join(flagged_pk)} "
        f"({len(pk_pages)} such pages)"
    )
    print(
        f"  no licensed platform flagged: {'yes' if not flagged_lic else 'NO ' + ', '.join(flagged_lic)} "
        f"({len(licensed)} licensed-platform documents)"
    )


def detector_outcomes(docs: Sequence[Labelled]) -> list[Outcome]:
    lex = load_lexicons(REPO / "config" / "lexicons")
    register = load_register()
    out = []
    for d in docs:
        a = analyze(d.document(), lex, register)
        out.append(Outcome(d, a.verdict == "flag", a.crypto_service, a.targets_pakistan, a.licensed))
    return out


def fitted_lambda() -> float:
    """The L2 strength recorded by the last ``fit_weights.py --write`` (its CV choice)."""
    found = re.search(r"fitted-begin \(.*?L2 ([0-9.e-]+)", SCORING.read_text(encoding="utf-8"))
    return float(found.group(1)) if found else LAMBDAS[0]


def report(parts: Sequence[str] = PARTS) -> None:
    """Print the figures of the named parts (``dev`` and the frozen ``test`` ... ``test11``). A frozen part left out
    is not scored, and its files and manifests are not even opened: while the detector is being changed,
    its misses must not steer the changes."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown parts {unknown}; the parts are {', '.join(PARTS)}")
    if "dev" in parts:
        dev = load_part("dev")
        lex = load_lexicons(REPO / "config" / "lexicons")
        lam = fitted_lambda()
        rows = training_rows(lex)
        predicted, _ = cross_validated(rows, lex, lam)
        scored = [p for p, r in zip(predicted, rows, strict=True) if not r.always_train]
        dev_cv = [Outcome(d, p) for d, p in zip(dev, scored, strict=True)]
        print(f"real-world dataset (bench/realworld): dev {len(dev)} documents")
        summary(f"dev, {FOLDS}-fold cross-validated by source (L2 {lam:g})", dev_cv)
        per_class(dev_cv)
        misses(dev_cv)
        dev_fitted = detector_outcomes(dev)
        summary("dev, detector with the fitted weights (in-sample)", dev_fitted)
        checks(dev_fitted)
    for part in FROZEN_PARTS:
        if part not in parts:
            print(f"frozen {part} part: not scored (--parts {','.join(parts)})")
            continue
        # Loaded only here: a frozen part left out of ``parts`` is not opened at all.
        frozen = load_part(part)
        print(f"frozen {part} part: {len(frozen)} documents")
        outcomes = detector_outcomes(frozen)
        summary(f"frozen {part}, detector as configured", outcomes, targets=True)
        per_class(outcomes)
        misses(outcomes)
        checks(outcomes)
