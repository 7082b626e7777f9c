"""The frozen test part of the real-world dataset (bench/realworld/test/) never changes.

Weights are fitted on bench/realworld/dev/ only; the test part measures them. If a file under
test/ is edited, added or removed, or its manifest changes, this fails: a changed test set would
silently stop being held out. The digest of SHA256SUMS itself is pinned here, so the list cannot be
regenerated to match an edit without also changing this file (which a reviewer sees).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

TEST_DIR = Path(__file__).resolve().parents[2] / "bench" / "realworld" / "test"
SUMS_DIGEST = "b4b0353e93f0b6f347fa1d631faa0b2d0637cc70d12e4b97631a4c55de80a6de"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sha256sums_is_the_pinned_list() -> None:
    assert _sha256(TEST_DIR / "SHA256SUMS") == SUMS_DIGEST, "bench/realworld/test/SHA256SUMS was changed"


def test_every_frozen_file_matches_and_nothing_was_added() -> None:
    listed: dict[str, str] = {}
    for line in (TEST_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    present = {p.name for p in TEST_DIR.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    assert present == set(listed), f"files added or removed: {sorted(present ^ set(listed))}"
    changed = sorted(name for name, digest in listed.items() if _sha256(TEST_DIR / name) != digest)
    assert not changed, f"frozen test files changed: {changed}"


def test_manifest_lists_exactly_the_frozen_documents() -> None:
    rows = list(csv.DictReader((TEST_DIR / "manifest.csv").open(encoding="utf-8")))
    files = {p.name for p in TEST_DIR.iterdir() if p.name not in ("SHA256SUMS", "manifest.csv")}
    assert {r["file"] for r in rows} == files
    assert {r["label"] for r in rows} == {"flag", "clear"}
    assert all(r["provenance"] and r["reason"] for r in rows)
