"""The real-world labelled dataset (bench/realworld/): documents, labels and sources, for benches.

Each part is a folder with the document files and one or more manifests: ``dev`` (fitting), and the
frozen parts that measure, ``test`` (split 2026-11-30, scored once), ``test2`` (rounds 4 and 5, scored once)
``test3`` (round 6, built separately to measure the next version; scored once), ``test4`` (round 7,
built separately again after test3 had been scored; scored once), ``test5`` (round 9, built after test4
had been scored; scored once), ``test6`` (round 10, built after test5 had been scored; scored once),
``test7`` (round 11, built after test6 had been scored; scored once), ``test8`` (round 12, built after
test7 had been scored; scored once), ``test9`` (round 13, built after test8 had been scored, for the next
scoring), ``test10`` (round 14, built like test9 with flags first, for the next scoring too) and
``test11`` (round 15, built the same way after test10 had been scored, for the next scoring; see
bench/realworld/README.md). A part has ``manifest.csv`` and further ``manifest-*.csv`` files (a later
collection round adds its own file, so two people adding rows do not edit the same one); see
bench/realworld/README.md for the label rule and provenance.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scanner.config import Register, parse_model, read_yaml  # noqa: E402
from scanner.detection import Document  # noqa: E402

ROOT = REPO / "bench" / "realworld"
REGISTER = ROOT / "register.yaml"
# A repository's source file (round 11 keeps a few under their own suffix, round 13 a few READMEs as
# .md) as its raw URL serves it.
CONTENT_TYPES = {
    ".html": "text/html",
    ".json": "application/json",
    ".txt": "text/plain",
    ".xml": "text/plain",
    ".js": "text/plain",
    ".py": "text/plain",
    ".md": "text/plain",
}
# The held-out parts, in the order they were built; each is frozen by a SHA256SUMS file.
FROZEN_PARTS = (
    "test",
    "test2",
    "test3",
    "test4",
    "test5",
    "test6",
    "test7",
    "test8",
    "test9",
    "test10",
    "test11",
)
PARTS = ("dev", *FROZEN_PARTS)


@dataclass(frozen=True)
class Labelled:
    id: str
    part: str
    cls: str
    language: str
    flag: bool
    source: str
    source_type: str
    url: str
    reason: str
    path: Path

    def document(self) -> Document:
        return Document(self.url, CONTENT_TYPES[self.path.suffix], self.path.read_bytes())


def manifests(folder: Path) -> list[Path]:
    """``manifest.csv`` first, then the other ``manifest*.csv`` sorted by name (a stable order)."""
    first = folder / "manifest.csv"
    return [first] + sorted(p for p in folder.glob("manifest*.csv") if p != first)


def load_part(part: str) -> list[Labelled]:
    """Documents of one of ``PARTS``, in manifest order; an id listed twice is an error."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; the parts are {', '.join(PARTS)}")
    folder = ROOT / part
    docs: list[Labelled] = []
    for manifest in manifests(folder):
        with manifest.open(encoding="utf-8") as f:
            docs += [
                Labelled(
                    r["id"],
                    part,
                    r["class"],
                    r["language"],
                    r["label"] == "flag",
                    r["source"],
                    r["source_type"],
                    r["url"],
                    r["reason"],
                    folder / r["file"],
                )
                for r in csv.DictReader(f)
            ]
    repeated = sorted(i for i, n in Counter(d.id for d in docs).items() if n > 1)
    if repeated:
        raise ValueError(
            f"{folder}: ids listed more than once across {[m.name for m in manifests(folder)]}: {repeated}"
        )
    return docs


def load_register(path: Path = REGISTER) -> Register:
    return parse_model(Register, read_yaml(path), path)


UNIT_CORPUS = REPO / "tests" / "detection" / "corpus"
UNIT_REGISTER = REPO / "tests" / "detection" / "register.yaml"


def load_unit_corpus() -> list[Labelled]:
    """The hand-written unit-test corpus (tests/detection/corpus), as labelled documents.

    Written alongside the lexicons, so it is never used to *measure*; the fit uses it as extra
    training data (always in the training folds) so the fitted weights keep its verdicts.
    """
    import yaml

    labels = yaml.safe_load((UNIT_CORPUS / "labels.yaml").read_text(encoding="utf-8"))["documents"]
    return [
        Labelled(
            name,
            "unit-corpus",
            "unit-corpus",
            "",
            label["verdict"] == "flag",
            f"unit-corpus/{name}",
            "authored",
            label["url"],
            "hand-written unit-test document",
            UNIT_CORPUS / name,
        )
        for name, label in sorted(labels.items())
    ]
