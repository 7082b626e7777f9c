"""Freezing a collection round into a held-out part (bench/realworld/freeze_common.py).

A frozen part is only worth something if none of its sources is in dev or in another frozen part, and
if what was frozen is exactly what was collected. These run the freeze on a throw-away dataset folder.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

from bench.realworld_data import ROOT

sys.path.insert(0, str(ROOT))  # the split/freeze scripts import their helpers as top-level modules

from freeze_common import freeze  # noqa: E402

FIELDS = [
    "id",
    "file",
    "class",
    "language",
    "label",
    "source_type",
    "source",
    "url",
    "provenance",
    "retrieved",
    "reason",
]


def _row(doc_id: str, source: str, url: str, label: str = "clear") -> dict[str, str]:
    return dict(
        zip(
            FIELDS,
            [doc_id, f"{doc_id}.txt", "pk-news", "en", label, "real", source, url, "p", "2026-12-07", "r"],
            strict=True,
        )
    )


def _manifest(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _dataset(tmp_path: Path, pool: list[dict[str, str]]) -> Path:
    _manifest(tmp_path / "dev" / "manifest.csv", [_row("d1", "news.example", "https://news.example/a")])
    _manifest(tmp_path / "test" / "manifest.csv", [_row("t1", "shop.example", "https://www.shop.example/x")])
    _manifest(tmp_path / "pool-round9.csv", pool)
    for r in pool:
        (tmp_path / "pool-round9").mkdir(exist_ok=True)
        (tmp_path / "pool-round9" / r["file"]).write_text(f"text of {r['id']}", encoding="utf-8")
    return tmp_path


def test_the_whole_pool_becomes_the_part_with_its_sums(tmp_path: Path) -> None:
    pool = [
        _row("r9-a", "desk.example", "https://desk.example/", "flag"),
        _row("r9-b", "bank.example", "https://bank.example/"),
    ]
    root = _dataset(tmp_path, pool)
    assert freeze("round9", "test9", root) == 0
    part = root / "test9"
    assert sorted(p.name for p in part.iterdir()) == ["SHA256SUMS", "manifest.csv", "r9-a.txt", "r9-b.txt"]
    assert not (root / "pool-round9").exists() and not (root / "pool-round9.csv").exists()
    sums = dict(line.split("  ")[::-1] for line in (part / "SHA256SUMS").read_text().splitlines())
    assert sums["r9-a.txt"] == hashlib.sha256(b"text of r9-a").hexdigest()
    assert set(sums) == {"manifest.csv", "r9-a.txt", "r9-b.txt"}


def test_a_source_that_another_frozen_part_or_dev_holds_stops_the_freeze(tmp_path: Path) -> None:
    pool = [
        _row("r9-a", "shop.example", "https://shop.example/other-page"),  # test/ holds the site
        _row("r9-b", "blog", "https://m.news.example/b"),  # dev holds the parent domain
        _row("r9-c", "free.example", "https://free.example/"),
    ]
    root = _dataset(tmp_path, pool)
    assert freeze("round9", "test9", root) == 1
    assert not (root / "test9").exists()
    assert sorted(p.name for p in (root / "pool-round9").iterdir()) == ["r9-a.txt", "r9-b.txt", "r9-c.txt"]


def test_a_frozen_part_left_out_of_the_report_is_never_opened(monkeypatch, capsys) -> None:
    # bench/detect.py --parts: the report must not even load a frozen part it was not asked for (the
    # loading, detection and printing are stubbed, so no detector runs on any document here).
    sys.path.insert(0, str(ROOT.parent))
    import realworld_report

    opened: list[str] = []
    monkeypatch.setattr(realworld_report, "load_part", lambda part: opened.append(part) or [])
    monkeypatch.setattr(realworld_report, "detector_outcomes", lambda docs: [])
    for name in ("summary", "per_class", "misses", "checks"):
        monkeypatch.setattr(realworld_report, name, lambda *args, **kwargs: None)
    realworld_report.report(["test3"])
    assert opened == ["test3"]
    out = capsys.readouterr().out
    assert "frozen test4 part: not scored" in out and "frozen test part: not scored" in out
    assert "frozen test5 part: not scored" in out
    assert "frozen test6 part: not scored" in out
    assert "frozen test7 part: not scored" in out
    assert "frozen test8 part: not scored" in out
    assert "frozen test9 part: not scored" in out
    assert "frozen test10 part: not scored" in out
    assert "frozen test11 part: not scored" in out


def test_candidates_are_checked_against_every_part_by_host_and_repository_owner(
    tmp_path, monkeypatch, capsys
) -> None:
    # check_candidates.py runs before collecting: a host or parent domain dev or a frozen part holds, or
    # another repository of an owner a part holds, is reported as held; anything else as free.
    import check_candidates

    root = _dataset(tmp_path, [_row("r9-a", "free.example", "https://free.example/")])
    _manifest(
        tmp_path / "test2" / "manifest.csv",
        [_row("t2", "github:Owner/app", "https://github.com/Owner/app/blob/c/ur.json")],
    )
    parts = check_candidates.held(root)
    monkeypatch.setattr(check_candidates, "held", lambda: parts)
    check_candidates.main(
        ["https://m.news.example/x", "https://shop.example/y", "owner/other-app", "https://free.example/z"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "held by dev\thttps://m.news.example/x",
        "held by test\thttps://shop.example/y",
        "held by test2\towner/other-app",
        "free\thttps://free.example/z",
    ]
