"""One-time split of collection round 4 into a second frozen part (test2/) and dev, by source.

Run once (2026-12-07) as ``python bench/realworld/split_round4.py``; it refuses to run when test2/
exists. Issue 12: the first frozen part (test/) has been scored, and detection is tuned further with
what that score showed, so the next version is measured on a set built separately: round 4.

Every document of one source (site or repository) goes to the same part. A source that dev already
holds (same source name, or a document URL on a host dev already uses) goes to dev, so no wording
straddles dev and test2. A source that test/ holds is refused: the round was collected against both
manifests, and the check is repeated here (reading only test/'s ``source`` and ``url`` columns). The
other sources are ordered by SHA-256 of their name, as ``split.py`` did; sources with a flagged
document fill test2/ until it holds half of round 4's flags, then the others until it holds half of
round 4's documents. test2/ gets ``manifest.csv`` and ``SHA256SUMS``; dev gets
``manifest-round4.csv``; the pool is removed.
"""

from __future__ import annotations

import sys

from split_common import (
    HERE,
    dev_keys,
    fill,
    flags,
    frozen_keys,
    group_by_source,
    hash_order,
    place,
    read_rows,
    sources_in,
)

FRACTION = 0.50


def main() -> int:
    test2, dev = HERE / "test2", HERE / "dev"
    if test2.exists():
        print("test2/ exists: the round-4 split is done once and frozen", file=sys.stderr)
        return 1
    rows = read_rows(HERE / "pool-round4.csv")
    groups = group_by_source(rows)
    straddling = sorted(sources_in(groups, frozen_keys(HERE / "test")))
    if straddling:
        print(f"sources already in test/, remove them from the pool: {straddling}", file=sys.stderr)
        return 1
    to_dev = sources_in(groups, dev_keys(dev))
    order = hash_order(s for s in groups if s not in to_dev)
    n_flags = flags(rows)
    chosen = fill(groups, order, FRACTION * n_flags, FRACTION * len(rows), set())
    t_flags = sum(flags(groups[s]) for s in chosen)
    t_docs = sum(len(groups[s]) for s in chosen)
    test2.mkdir()
    place("round4", rows, chosen, test2, [], dev / "manifest-round4.csv")
    print(
        f"round 4: {len(rows)} documents ({n_flags} flag) from {len(groups)} sources; "
        f"{len(to_dev)} sources already in dev. test2: {t_docs} documents ({t_flags} flag) from "
        f"{len(chosen)} sources; dev: {len(rows) - t_docs} documents ({n_flags - t_flags} flag)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
