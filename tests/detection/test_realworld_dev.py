"""The development part of the real-world dataset (bench/realworld/dev/) is read from all its manifests.

Rounds of collection add their own ``manifest-*.csv``; the fit and the report must see every row, and a
row must point at a document that is there, with a label, provenance and a reason. Nothing here reads
the frozen test part's documents.
"""

from __future__ import annotations

import csv
from collections import Counter

from bench.realworld_data import ROOT, load_part, manifests

DEV = ROOT / "dev"


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for manifest in manifests(DEV):
        with manifest.open(encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def test_every_manifest_row_is_loaded_once_and_every_document_is_listed() -> None:
    assert len(manifests(DEV)) > 1 and manifests(DEV)[0].name == "manifest.csv"
    docs = load_part("dev")
    rows = _rows()
    assert [d.id for d in docs] == [r["id"] for r in rows]
    assert all(d.path.is_file() for d in docs)
    on_disk = {p.name for p in DEV.iterdir() if not p.name.startswith("manifest")}
    assert {d.path.name for d in docs} == on_disk


def test_every_row_has_a_label_provenance_and_reason() -> None:
    rows = _rows()
    assert {r["label"] for r in rows} == {"flag", "clear"}
    assert all(r["provenance"] and r["reason"] and r["source"] and r["retrieved"] for r in rows)


def test_a_real_page_is_in_the_dev_part_once() -> None:
    """The search tools return the same stored pages to every collection round; a page added twice would
    count its evidence twice in the fit. Authored documents share their API addresses on purpose."""
    urls = Counter(r["url"] for r in _rows() if r["source_type"] != "authored")
    assert not [url for url, n in urls.items() if n > 1]
