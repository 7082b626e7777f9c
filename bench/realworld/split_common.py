"""What the one-time collection-round splits share (split_round4.py, split_round5.py).

A split moves a pool of newly collected documents into a frozen part and dev, by source: every
document of one source goes to the same part, and a source is identified by its name and by the URL
hosts (and registrable parent domains) of its documents, so a site already in one part never lands
in another. Sources free to go either way are ordered by SHA-256 of their name (as split.py did) and
fill the frozen part first with flagged sources, then with clear-only ones.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
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

Row = dict[str, str]


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


def source_keys(rows: Iterable[Row]) -> set[str]:
    keys: set[str] = set()
    for r in rows:
        keys.add(r["source"].lower())
        keys |= host_keys(r["url"])
    return keys


def read_rows(*paths: Path) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        with path.open(encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def frozen_keys(part: Path) -> set[str]:
    """Source keys of a frozen part, reading only its manifest's ``source`` and ``url`` columns."""
    return source_keys({"source": r["source"], "url": r["url"]} for r in read_rows(part / "manifest.csv"))


def dev_keys(dev: Path) -> set[str]:
    """Source keys of every dev manifest."""
    return source_keys(read_rows(*sorted(dev.glob("manifest*.csv"))))


def sources_in(groups: dict[str, list[Row]], keys: set[str]) -> set[str]:
    """The pool's sources that share a name or a host with ``keys``."""
    return {s for s, g in groups.items() if source_keys(g) & keys}


def group_by_source(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r["source"], []).append(r)
    return groups


def hash_order(sources: Iterable[str]) -> list[str]:
    return sorted(sources, key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def flags(rows: Iterable[Row]) -> int:
    return sum(r["label"] == "flag" for r in rows)


def fill(
    groups: dict[str, list[Row]], order: list[str], flag_target: float, doc_target: float, chosen: set[str]
) -> set[str]:
    """Add sources from ``order`` to ``chosen`` (the frozen part's sources, possibly pre-set): flagged
    sources while the part's flags from this pool are below ``flag_target``, then clear-only sources
    while its documents from this pool are below ``doc_target``."""
    chosen = set(chosen)
    t_flags = sum(flags(groups[s]) for s in chosen)
    for src in order:  # pass 1: sources with a flagged document
        if src not in chosen and flags(groups[src]) and t_flags < flag_target:
            chosen.add(src)
            t_flags += flags(groups[src])
    t_docs = sum(len(groups[s]) for s in chosen)
    for src in order:  # pass 2: sources with clear documents only
        if src not in chosen and not flags(groups[src]) and t_docs < doc_target:
            chosen.add(src)
            t_docs += len(groups[src])
    return chosen


def write_manifest(path: Path, rows: list[Row], fields: list[str]) -> None:
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


def place(
    round_name: str,
    rows: list[Row],
    chosen: set[str],
    frozen: Path,
    frozen_rows: list[Row],
    dev_manifest: Path,
) -> list[Row]:
    """Move the pool's files into the frozen part (chosen sources) or dev, write both manifests and the
    frozen part's sums, and remove the pool; returns the rows that went to the frozen part."""
    pool = HERE / f"pool-{round_name}"
    new = [r for r in rows if r["source"] in chosen]
    for r in rows:
        shutil.move(
            str(pool / r["file"]), (frozen if r["source"] in chosen else dev_manifest.parent) / r["file"]
        )
    fields = list(rows[0])
    write_manifest(frozen / "manifest.csv", frozen_rows + new, fields)
    write_manifest(dev_manifest, [r for r in rows if r["source"] not in chosen], fields)
    write_sums(frozen)
    pool.rmdir()
    (HERE / f"pool-{round_name}.csv").unlink()
    return new
