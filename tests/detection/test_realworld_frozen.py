"""The frozen parts of the real-world dataset (bench/realworld/test/, test2/ ... test11/) never change.

Weights are fitted on bench/realworld/dev/ only; the frozen parts measure them: test/ (split
2026-11-30, scored once), test2/ (collection round 4, extended by round 5 before it was ever scored;
scored once), test3/ (collection round 6, built separately from sources no other part holds, scored
once), test4/ (collection round 7, built the same way after test3/ had been scored; scored once), test5/
(collection round 9, built the same way after test4/ had been scored; scored once), test6/ (collection
round 10, built the same way after test5/ had been scored; scored once), test7/ (collection round 11,
built the same way after test6/ had been scored; scored once), test8/ (collection round 12, built the same
way after test7/ had been scored; scored once), test9/ (collection round 13, built the same way after
test8/ had been scored, to measure the next version), test10/ (collection round 14, built the same way at
the same time as test9/, flags first, to measure the next version too) and test11/ (collection round 15, built
the same way after test10/ had been scored, flags first, to measure the next version).
If a file under a frozen part is edited, added or removed, or its manifest changes, this fails: a
changed part would silently stop being held out. The digest of each part's SHA256SUMS is pinned here,
so the list cannot be regenerated to match an edit without also changing this file (which a reviewer sees).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from bench.realworld_data import CONTENT_TYPES, FROZEN_PARTS, ROOT

SUMS_DIGESTS = {
    "test": "b4b0353e93f0b6f347fa1d631faa0b2d0637cc70d12e4b97631a4c55de80a6de",
    "test2": "fce233885dfbb58a7f350f957ef7ae12775cdc3ee716a12f1b1a0a2cfc024e9f",
    "test3": "15aa124e99f1882bfb5eb3717aca4f4454a293eb224008f8e272a6818020ffca",
    "test4": "099e1082d6281cd08318ba4c345801220c8a151c7ea1e110c54e15b7eba087f8",
    "test5": "1d8c9046aa3873475ef5d1f31af9ed1f7de48b20a0750e10a94528e141aa7adc",
    "test6": "95f454fb0695970cdf1683829f413db7a16d4ba96424d775145c299cb3dff9d8",
    "test7": "d63a0f9a4215e24d77e27f4fa39576b4bf266978cd8efd6b50340acb734ad5fd",
    "test8": "08ae0f0b7bfe31f361ec2d0fc02a34c64706757070561ac23671a641e5c8f4dd",
    "test9": "e20dcb925d0c2ac05f9527cec7e42ee1f441c254eaac5876b432a93387bd9472",
    "test10": "1fbb539f227e594098ff6ec977ab25c3e1fd788c81ab79884bccf49dbb245230",
    "test11": "6b99187ffe7025c4a7bf9c0e74b1a7cc75d90a2f9420b55df95ab1cf17ebb4ae",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_frozen_part_has_a_pinned_digest() -> None:
    assert set(SUMS_DIGESTS) == set(FROZEN_PARTS)


@pytest.mark.parametrize("part", FROZEN_PARTS)
def test_sha256sums_is_the_pinned_list(part: str) -> None:
    assert _sha256(ROOT / part / "SHA256SUMS") == SUMS_DIGESTS[part], (
        f"bench/realworld/{part}/SHA256SUMS was changed"
    )


@pytest.mark.parametrize("part", FROZEN_PARTS)
def test_every_frozen_file_matches_and_nothing_was_added(part: str) -> None:
    folder = ROOT / part
    listed: dict[str, str] = {}
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    assert present == set(listed), f"files added or removed in {part}/: {sorted(present ^ set(listed))}"
    changed = sorted(name for name, digest in listed.items() if _sha256(folder / name) != digest)
    assert not changed, f"frozen {part} files changed: {changed}"


@pytest.mark.parametrize("part", FROZEN_PARTS)
def test_manifest_lists_exactly_the_frozen_documents(part: str) -> None:
    folder = ROOT / part
    rows = list(csv.DictReader((folder / "manifest.csv").open(encoding="utf-8")))
    files = {p.name for p in folder.iterdir() if p.name not in ("SHA256SUMS", "manifest.csv")}
    assert {r["file"] for r in rows} == files
    assert {r["label"] for r in rows} == {"flag", "clear"}
    assert all(r["provenance"] and r["reason"] for r in rows)


@pytest.mark.parametrize("part", FROZEN_PARTS)
def test_every_frozen_document_has_a_content_type_to_score_it_with(part: str) -> None:
    """Only the files' names: a part with a suffix the report cannot type stops its scoring midway
    (test7's .js, .py and .xml files did, before their suffixes were added)."""
    rows = csv.DictReader((ROOT / part / "manifest.csv").open(encoding="utf-8"))
    untyped = sorted(r["file"] for r in rows if Path(r["file"]).suffix not in CONTENT_TYPES)
    assert not untyped, f"{part}: no content type for {untyped} (bench/realworld_data.py CONTENT_TYPES)"


def test_no_source_straddles_two_parts() -> None:
    """Every document of one source (site, repository or authored family) is in one part, so a frozen part
    measures wording the fit never saw. Reads only the manifests' ``source`` column."""
    sources: dict[str, set[str]] = {}
    for part in ("dev", *FROZEN_PARTS):
        for manifest in sorted((ROOT / part).glob("manifest*.csv")):
            with manifest.open(encoding="utf-8") as f:
                sources.setdefault(part, set()).update(r["source"] for r in csv.DictReader(f))
    parts = sorted(sources)
    shared = {(a, b): sources[a] & sources[b] for i, a in enumerate(parts) for b in parts[i + 1 :]}
    assert not any(shared.values()), {pair: sorted(s) for pair, s in shared.items() if s}
