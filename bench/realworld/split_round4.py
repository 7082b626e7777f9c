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

import csv
import hashlib
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
FRACTION = 0.50
# Hosts that serve many unrelated publishers: compared as full host names, never by parent domain.
SHARED_HOSTS = (
    "github.com",
    "zendesk.com",
    "blogspot.com",
    "gitbook.io",
    "pages.dev",
    "eu.org",
    "medium.com",
)
# Second-level labels under a country code (com.pk, co.uk): never a registrable domain of their own.
PUBLIC_SECOND_LEVEL = {"com", "co", "org", "net", "gov", "edu", "ac", "gob", "or", "ne", "web", "biz", "info"}


def host_keys(url: str) -> set[str]:
    """The URL's host and its registrable parent domains (a shared host only as itself)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if not host or host == "github.com":
        return set()  # a repository document is identified by its source name
    if any(host == s or host.endswith("." + s) for s in SHARED_HOSTS):
        return {host}
    labels = host.split(".")
    parents = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return {p for p in parents if not (p.count(".") == 1 and p.split(".")[0] in PUBLIC_SECOND_LEVEL)}


def source_keys(rows: Iterable[dict[str, str]]) -> set[str]:
    keys: set[str] = set()
    for r in rows:
        keys.add(r["source"].lower())
        keys |= host_keys(r["url"])
    return keys


def read_rows(*paths: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def write_manifest(path: Path, rows: list[dict[str, str]], fields: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: r["id"]))


def write_sums(folder: Path) -> None:
    """``sha256sum`` format over every file of the part, the manifest included."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    pool, test2, dev = HERE / "pool-round4", HERE / "test2", HERE / "dev"
    if test2.exists():
        print("test2/ exists: the round-4 split is done once and frozen", file=sys.stderr)
        return 1
    rows = read_rows(HERE / "pool-round4.csv")
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["source"], []).append(r)
    in_test = source_keys(
        {"source": r["source"], "url": r["url"]} for r in read_rows(HERE / "test" / "manifest.csv")
    )
    in_dev = source_keys(read_rows(*sorted(dev.glob("manifest*.csv"))))
    straddling = sorted(s for s, g in groups.items() if source_keys(g) & in_test)
    if straddling:
        print(f"sources already in test/, remove them from the pool: {straddling}", file=sys.stderr)
        return 1
    to_dev = {s for s, g in groups.items() if source_keys(g) & in_dev}
    order = sorted(
        (s for s in groups if s not in to_dev), key=lambda s: hashlib.sha256(s.encode()).hexdigest()
    )
    flags = sum(r["label"] == "flag" for r in rows)
    chosen: set[str] = set()
    t_flags = t_docs = 0
    for src in order:  # pass 1: sources with a flagged document
        g = groups[src]
        if any(r["label"] == "flag" for r in g) and t_flags < FRACTION * flags:
            chosen.add(src)
            t_flags += sum(r["label"] == "flag" for r in g)
            t_docs += len(g)
    for src in order:  # pass 2: sources with clear documents only
        g = groups[src]
        if src not in chosen and not any(r["label"] == "flag" for r in g) and t_docs < FRACTION * len(rows):
            chosen.add(src)
            t_docs += len(g)
    fields = list(rows[0])
    test2.mkdir()
    for r in rows:
        shutil.move(str(pool / r["file"]), (test2 if r["source"] in chosen else dev) / r["file"])
    write_manifest(test2 / "manifest.csv", [r for r in rows if r["source"] in chosen], fields)
    write_manifest(dev / "manifest-round4.csv", [r for r in rows if r["source"] not in chosen], fields)
    write_sums(test2)
    pool.rmdir()
    (HERE / "pool-round4.csv").unlink()
    print(
        f"round 4: {len(rows)} documents ({flags} flag) from {len(groups)} sources; "
        f"{len(to_dev)} sources already in dev. test2: {t_docs} documents ({t_flags} flag) from "
        f"{len(chosen)} sources; dev: {len(rows) - t_docs} documents ({flags - t_flags} flag)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
