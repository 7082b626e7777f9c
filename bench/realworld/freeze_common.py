"""Freeze a collection round, whole, into a held-out part (freeze_test3.py, freeze_test4.py).

A frozen part built for one future scoring takes every document of its round and nothing goes to dev:
the pool (``pool-<round>.csv`` and ``pool-<round>/``) is moved into the part, its manifest and
``SHA256SUMS`` are written, and the pool is removed. Before anything moves, every source of the pool
(name, URL host or registrable parent domain; the repository name for repository documents) is
checked against dev and every other part (for a frozen part only its manifest's ``source`` and ``url``
columns are read, so nothing else of a held-out part is seen); a shared source stops the freeze.
Run again with a new pool before the part is first scored, it adds the pool (an id or URL already in
the part stops it) and regenerates ``SHA256SUMS``; the digest pinned in
tests/detection/test_realworld_frozen.py has to be updated in the same commit.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

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


def held_parts(part: str, root: Path = HERE) -> list[Path]:
    """Every other frozen part (``test``, ``test2``, ...): folders named ``test*`` with a manifest."""
    return sorted(p for p in root.glob("test*") if p.name != part and (p / "manifest.csv").exists())


def freeze(round_name: str, part: str, root: Path = HERE) -> int:
    """Move ``pool-<round_name>`` into the frozen ``part``; 0 on success, 1 (with a message) if refused."""
    pool, pool_csv, target = root / f"pool-{round_name}", root / f"pool-{round_name}.csv", root / part
    if not pool_csv.exists() or not pool.exists():
        print(f"no {round_name} pool to freeze ({pool_csv.name} and {pool.name}/ are gone)", file=sys.stderr)
        return 1
    rows = read_rows(pool_csv)
    groups = group_by_source(rows)
    held = {"dev": sources_in(groups, dev_keys(root / "dev"))}
    held |= {p.name: sources_in(groups, frozen_keys(p)) for p in held_parts(part, root)}
    if any(held.values()):
        taken = {name: sorted(sources) for name, sources in held.items() if sources}
        print(f"sources another part holds, remove them: {taken}", file=sys.stderr)
        return 1
    earlier = read_rows(target / "manifest.csv") if (target / "manifest.csv").exists() else []
    clash = sorted({r["id"] for r in earlier} & {r["id"] for r in rows}) + sorted(
        {r["url"] for r in earlier} & {r["url"] for r in rows}
    )
    if clash:
        print(f"already in {part}/: {clash}", file=sys.stderr)
        return 1
    missing = sorted(r["file"] for r in rows if not (pool / r["file"]).is_file())
    if missing:
        print(f"listed in {pool_csv.name} but not in {pool.name}/: {missing}", file=sys.stderr)
        return 1
    target.mkdir(exist_ok=True)
    for r in rows:
        shutil.move(str(pool / r["file"]), target / r["file"])
    write_manifest(target / "manifest.csv", earlier + rows, list(rows[0]))
    write_sums(target)
    pool.rmdir()
    pool_csv.unlink()
    digest = hashlib.sha256((target / "SHA256SUMS").read_bytes()).hexdigest()
    total = earlier + rows
    print(
        f"{round_name}: +{len(rows)} documents ({flags(rows)} flag) from {len(groups)} sources; {part} now "
        f"{len(total)} documents ({flags(total)} flag). Pin {part}/SHA256SUMS digest {digest}"
    )
    return 0
