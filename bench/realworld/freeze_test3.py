"""Freeze collection round 6 into the third held-out part, test3/ (every document of the round).

Run as ``python bench/realworld/freeze_test3.py`` (2026-12-07). Why: test/ and test2/ have both been
scored and their misses studied, so they no longer measure the detector without bias; round 6 was
collected only for test3/, from sources no other part holds, and labelled by reading, never by the
detector. Unlike split_round4.py/split_round5.py nothing goes to dev: the whole pool
(``pool-round6.csv`` and ``pool-round6/``) becomes test3/.

A source (name, URL host or registrable parent domain) that dev, test/ or test2/ already holds stops
the freeze; only the ``source`` and ``url`` columns of the frozen parts' manifests are read. Run again
with a new pool before test3/ is first scored, it adds the pool to test3/ (an id or URL already there
stops it) and regenerates ``SHA256SUMS``; the digest pinned in
tests/detection/test_realworld_frozen.py has to be updated in the same commit. Once test3/ has been
scored it must not be extended (say so in README.md and stop using this script).
"""

from __future__ import annotations

import hashlib
import shutil
import sys

from split_common import (
    HERE,
    dev_keys,
    flags,
    frozen_keys,
    group_by_source,
    read_rows,
    sources_in,
    write_manifest,
    write_sums,
)

POOL, POOL_CSV, TEST3 = HERE / "pool-round6", HERE / "pool-round6.csv", HERE / "test3"


def main() -> int:
    if not POOL_CSV.exists() or not POOL.exists():
        print("no round-6 pool to freeze (pool-round6.csv and pool-round6/ are gone)", file=sys.stderr)
        return 1
    rows = read_rows(POOL_CSV)
    groups = group_by_source(rows)
    held = {
        "dev": sources_in(groups, dev_keys(HERE / "dev")),
        "test": sources_in(groups, frozen_keys(HERE / "test")),
        "test2": sources_in(groups, frozen_keys(HERE / "test2")),
    }
    if any(held.values()):
        taken = {part: sorted(sources) for part, sources in held.items() if sources}
        print(f"sources another part holds, remove them: {taken}", file=sys.stderr)
        return 1
    earlier = read_rows(TEST3 / "manifest.csv") if (TEST3 / "manifest.csv").exists() else []
    clash = sorted({r["id"] for r in earlier} & {r["id"] for r in rows}) + sorted(
        {r["url"] for r in earlier} & {r["url"] for r in rows}
    )
    if clash:
        print(f"already in test3/: {clash}", file=sys.stderr)
        return 1
    TEST3.mkdir(exist_ok=True)
    for r in rows:
        shutil.move(str(POOL / r["file"]), TEST3 / r["file"])
    write_manifest(TEST3 / "manifest.csv", earlier + rows, list(rows[0]))
    write_sums(TEST3)
    POOL.rmdir()
    POOL_CSV.unlink()
    digest = hashlib.sha256((TEST3 / "SHA256SUMS").read_bytes()).hexdigest()
    total = earlier + rows
    print(
        f"round 6: +{len(rows)} documents ({flags(rows)} flag) from {len(groups)} sources; test3 now "
        f"{len(total)} documents ({flags(total)} flag). Pin test3/SHA256SUMS digest {digest}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
