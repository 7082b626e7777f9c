"""One-time split of the labelled pool into dev/ and a frozen test/ part, by source.

Run once (2026-11-30) as ``python bench/realworld/split.py``; it refuses to run when test/ exists.
Every document of one source (site, repository or authored family) goes to the same part, so no
site's wording leaks from test into dev. Sources are ordered by SHA-256 of their name; sources
with a flagged document fill test/ until it holds 30% of the flags, then the others until test/
holds 30% of all documents.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRACTION = 0.30


def main() -> int:
    pool, test_dir = HERE / "pool", HERE / "test"
    if test_dir.exists():
        print("test/ exists: the split is done once and frozen", file=sys.stderr)
        return 1
    rows = list(csv.DictReader((HERE / "pool.csv").open(encoding="utf-8")))
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["source"], []).append(r)
    order = sorted(groups, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    flags = sum(r["label"] == "flag" for r in rows)
    test: set[str] = set()
    t_flags = t_docs = 0
    for src in order:  # pass 1: sources with positives
        g = groups[src]
        if any(r["label"] == "flag" for r in g) and t_flags < FRACTION * flags:
            test.add(src)
            t_flags += sum(r["label"] == "flag" for r in g)
            t_docs += len(g)
    for src in order:  # pass 2: negatives-only sources
        g = groups[src]
        if src not in test and not any(r["label"] == "flag" for r in g) and t_docs < FRACTION * len(rows):
            test.add(src)
            t_docs += len(g)
    fields = [f for f in rows[0] if f != "split"]
    for part, keep in (("dev", lambda s: s not in test), ("test", lambda s: s in test)):
        out = HERE / part
        out.mkdir()
        chosen = [r for r in rows if keep(r["source"])]
        for r in chosen:
            shutil.move(str(pool / r["file"]), out / r["file"])
        with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(sorted(chosen, key=lambda r: r["id"]))
    pool.rmdir()
    (HERE / "pool.csv").unlink()
    print(f"test: {t_docs} documents ({t_flags} flag) from {len(test)} sources; dev: {len(rows) - t_docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
