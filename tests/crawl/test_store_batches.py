"""Storing pages a batch at a time stores what storing them one at a time does (no Scrapy, real SQLite).

The detection worker stores a batch in one transaction and looks up the current pages and mirror
grouping's answers once a batch (`scanner.findings.store.DocumentBatch`), following what the batch
itself writes. A page stored earlier in the same batch must count exactly as a committed one does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, MetaData, select
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.observation import Observation, ObservationWriter, Rules, rules_for
from scanner.runs import start_run
from scanner.store.db import make_engine, upgrade
from tests.conftest import REPO_ROOT
from tests.crawl.test_findings import PAGE


@pytest.fixture(scope="module")
def rules() -> Rules:
    return rules_for(Config(REPO_ROOT / "config" / "demo"))


def page(rules: Rules, url: str, *, brand: str = "RupeeX", canonical: str = "", contact: str = "rupee.test",
         extra: str = "", vantage: str | None = None) -> Observation:  # fmt: skip
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = PAGE.format(brand=brand, canonical=link, contact=contact, extra=extra).encode()
    return rules.observe(url, "text/html; charset=utf-8", body, vantage=vantage)


def batches(rules: Rules) -> list[list[Observation]]:
    return [
        [
            # a mirror naming its original before the original is stored, then the original
            page(rules, "http://rupee-mirror.test/deposit", canonical="http://rupee.test/deposit"),
            page(rules, "http://rupee.test/deposit"),
            page(rules, "http://rupee.test/a", extra="Page a."),
            # same text (host names masked) on two platforms: grouped under the first
            page(rules, "http://first.test/deposit", brand="Indus", contact="first.test"),
            page(rules, "http://second.test/deposit", brand="Indus", contact="second.test"),
            # the same URL twice in one batch, changed: the first is superseded
            page(rules, "http://rupee.test/b", extra="One."),
            page(rules, "http://rupee.test/b", extra="Two."),
        ],
        [
            page(rules, "http://rupee.test/deposit"),  # unchanged: only last_seen moves
            page(rules, "http://rupee.test/deposit", vantage="pk"),  # another vantage point: its own page
            page(rules, "http://rupee.test/a", extra="Page a, changed."),
            page(rules, "http://rupee.test/a", extra="Page a, changed."),
            # a third platform names the second canonical: grouped with the second's group
            page(rules, "http://third.test/x", brand="Indus", contact="third.test", canonical="http://second.test/"),
            page(rules, "http://third.test/deposit", brand="Indus", contact="third.test"),
            page(rules, "http://lone.test/", brand="Lone", contact="lone.test"),
            page(rules, "http://solo-a.test/p", brand="Solo", contact="solo-a.test"),
        ],
        [
            # the original's text changes back and forth within one batch
            page(rules, "http://first.test/deposit", brand="Indus", contact="first.test", extra="New."),
            page(rules, "http://second.test/deposit", brand="Indus", contact="second.test", extra="New."),
            page(rules, "http://first.test/deposit", brand="Indus", contact="first.test"),
            page(rules, "http://rupee-mirror.test/deposit", canonical="http://rupee.test/deposit", extra="X"),
            # the only page with this text changes: a later page with its old text matches nothing
            page(rules, "http://solo-a.test/p", brand="Solo", contact="solo-a.test", extra="Moved."),
            page(rules, "http://solo-b.test/p", brand="Solo", contact="solo-b.test"),
        ],
    ]  # fmt: skip


def stored(tmp_path: Path, name: str, rules: Rules, one_at_a_time: bool) -> dict[str, list[dict[str, Any]]]:
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    upgrade(engine)
    writer = ObservationWriter(engine, rules, start_run(engine, "crawl", "t"))
    for batch in batches(rules):
        for part in [[seen] for seen in batch] if one_at_a_time else [batch]:
            writer.store(part)
        writer.refresh()
    return dump(engine)


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in id order, without the times (the two runs store at other moments)."""
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as connection:
        for name, table in meta.tables.items():
            columns = [c for c in table.columns if not isinstance(c.type, DateTime)]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).mappings()
            out[name] = [dict(row) for row in rows]
    return out


def test_a_batch_stores_what_one_page_at_a_time_stores(tmp_path: Path, rules: Rules) -> None:
    batched = stored(tmp_path, "batched.sqlite3", rules, one_at_a_time=False)
    single = stored(tmp_path, "single.sqlite3", rules, one_at_a_time=True)
    assert batched == single
    platforms = {row["key"]: row for row in batched["platform"]}
    # the cases above did happen: mirrors grouped, pages superseded, a second vantage point
    assert platforms["rupee-mirror.test"]["mirror_of_id"] == platforms["rupee.test"]["id"]
    assert platforms["second.test"]["mirror_of_id"] == platforms["first.test"]["id"]
    assert platforms["third.test"]["mirror_of_id"] == platforms["first.test"]["id"]
    assert platforms["lone.test"]["mirror_of_id"] is None and platforms["solo-b.test"]["mirror_of_id"] is None
    pages = batched["pageanalysis"]
    assert sum(row["superseded"] for row in pages) >= 4
    assert {row["vantage"] for row in pages} == {None, "pk"}
