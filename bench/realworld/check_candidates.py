"""Check candidate sources against every part before collecting them (a collection aid, never a split).

Run as ``python bench/realworld/check_candidates.py SOURCE-OR-URL ...`` (or one per line on stdin).
Each argument is a URL (``https://host/...``) or a repository (``github:owner/name`` or ``owner/name``);
it prints ``held by <parts>`` or ``free`` per argument. Why: freeze_common.freeze refuses a whole pool
when one source is held by dev or a frozen part, so a round checks its candidates early, before
excerpting them. It reads only the ``source`` and ``url`` columns of the manifests (the same keys as
the freeze), plus the repository owners, because a part already holding one of an owner's repositories
makes its other repositories correlated text (round 8 left such a repository out).
"""

from __future__ import annotations

import sys
from pathlib import Path

from freeze_common import held_parts
from split_common import HERE, dev_keys, frozen_keys, host_keys, read_rows


def candidate_keys(arg: str) -> set[str]:
    """The split keys of one candidate: a URL's host keys, or a repository's ``github:owner/name``."""
    if "://" in arg and "github.com/" not in arg:
        return host_keys(arg)
    repo = arg.removeprefix("github:").split("github.com/")[-1].strip("/")
    return {"github:" + "/".join(repo.split("/")[:2]).lower()}


def owner(key: str) -> str:
    return key.removeprefix("github:").split("/")[0] if key.startswith("github:") else ""


def part_owners(rows: list[dict[str, str]]) -> set[str]:
    """Repository owners a part holds, from ``source`` (``github:owner/name``) and github ``url`` columns."""
    found = set()
    for r in rows:
        for value in (r["source"], r["url"]):
            if "github" in value:
                name = value.removeprefix("github:").split("github.com/")[-1]
                found.add(name.split("/")[0].lower())
    return found


def held(root: Path = HERE) -> dict[str, tuple[set[str], set[str]]]:
    """Per part: (split keys, repository owners)."""
    parts = {
        "dev": (dev_keys(root / "dev"), part_owners(read_rows(*sorted((root / "dev").glob("manifest*.csv")))))
    }
    for p in held_parts("", root):
        rows = [{"source": r["source"], "url": r["url"]} for r in read_rows(p / "manifest.csv")]
        parts[p.name] = (frozen_keys(p), part_owners(rows))
    return parts


def main(args: list[str]) -> int:
    parts = held()
    for arg in args or [line.strip() for line in sys.stdin if line.strip()]:
        keys = candidate_keys(arg)
        hits = sorted(
            name
            for name, (part_keys, owners) in parts.items()
            if keys & part_keys or ({owner(k) for k in keys} - {""}) & owners
        )
        print(f"{'held by ' + ','.join(hits) if hits else 'free'}\t{arg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
