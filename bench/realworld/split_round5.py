"""One-time split of collection round 5 (flag-focused) into test2/ and dev, by source.

Run once (2026-12-07) as ``python bench/realworld/split_round5.py``; it refuses to run when
``dev/manifest-round5.csv`` exists or the pool is gone. Why: test2/ (round 4) held 3 flags, all Urdu
guide pages, so its recall would rest on three documents of one kind. Round 5 collected flags of other
kinds and hard clears, and extends test2/ before test2/ was ever scored (see README.md, round 5).

Same rules as split_round4.py (shared in split_common.py): every document of one source goes to one
part; a source test/ holds is refused (only test/'s ``source`` and ``url`` columns are read); a source
dev holds goes to dev; a source test2/ already holds stays in test2/. The other sources, ordered by
SHA-256 of their name, fill test2/ with flagged sources until round 5 supplies about half of all
test2/ flags (round-5 flags in test2/ >= test2/'s earlier flags), then with clear-only sources until
test2/ holds half of round 5's documents; dev gets the rest in ``manifest-round5.csv``. test2/'s rows
are added to its ``manifest.csv``, its ``SHA256SUMS`` is regenerated, and the pool is removed; the
pinned digest in tests/detection/test_realworld_frozen.py has to be updated in the same commit.
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
    pool, test2, dev = HERE / "pool-round5", HERE / "test2", HERE / "dev"
    out = dev / "manifest-round5.csv"
    if out.exists() or not pool.exists():
        print(
            "round 5 was split already (dev/manifest-round5.csv exists or the pool is gone)", file=sys.stderr
        )
        return 1
    rows = read_rows(HERE / "pool-round5.csv")
    groups = group_by_source(rows)
    refused = sorted(sources_in(groups, frozen_keys(HERE / "test")))
    to_dev = sources_in(groups, dev_keys(dev))
    to_test2 = sources_in(groups, frozen_keys(test2))
    both = sorted(to_dev & to_test2)
    if refused or both:
        print(f"sources already in test/ {refused} or in dev and test2/ {both}: remove them", file=sys.stderr)
        return 1
    order = hash_order(s for s in groups if s not in to_dev | to_test2)
    test2_rows = read_rows(test2 / "manifest.csv")
    # Round-5 flags in test2/ reach test2/'s earlier flags: about half of its flags come from round 5.
    chosen = fill(groups, order, flags(test2_rows), FRACTION * len(rows), to_test2)
    new = place("round5", rows, chosen, test2, test2_rows, out)
    print(
        f"round 5: {len(rows)} documents ({flags(rows)} flag) from {len(groups)} sources; "
        f"{len(to_dev)} sources already in dev, {len(to_test2)} in test2. test2 +{len(new)} documents "
        f"(+{flags(new)} flag) from {len(chosen)} sources, now {len(test2_rows) + len(new)} documents "
        f"({flags(test2_rows) + flags(new)} flag); dev +{len(rows) - len(new)} documents "
        f"({flags(rows) - flags(new)} flag)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
