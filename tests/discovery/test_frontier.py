"""The frontier's order and how a candidate leaves it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from scanner.discovery.frontier import MAX_ATTEMPTS, frontier_rows, take_frontier
from scanner.findings import mark_candidate_crawled, record_candidate
from scanner.store.db import make_engine, upgrade

PAKISTAN = ["pak", "rupee", "karachi"]


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'frontier.sqlite3'}")
    upgrade(engine)
    return engine


def test_several_sources_then_pakistan_words_then_sightings_come_first(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        for url, source in [
            ("http://global-coins.example/", "coingecko"), ("http://global-coins.example/", "coingecko"),
            ("http://rupeetrade.example/", "crtsh"),
            ("http://news-site.example/", "crtsh"), ("http://news-site.example/", "telegram"),
        ]:  # fmt: skip
            record_candidate(session, url, "http://source.example/", None, source=source, reason="test")
        session.commit()
        order = [c.key for c in take_frontier(session, 3, PAKISTAN)]
    assert order == ["news-site.example", "rupeetrade.example", "global-coins.example"]


def test_a_candidate_no_crawl_could_fetch_leaves_after_a_few_attempts(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        record_candidate(session, "http://no-site.example/", "http://crt.example/", None, source="crtsh")
        record_candidate(session, "http://live-site.example/", "http://crt.example/", None, source="crtsh")
        session.commit()
        assert len(take_frontier(session, 10)) == 2  # a first crawl takes both; only one is fetched
        mark_candidate_crawled(session, "live-site.example")
        session.commit()
        for _ in range(MAX_ATTEMPTS - 1):
            assert [c.key for c in take_frontier(session, 10)] == ["no-site.example"]
            session.commit()
        assert take_frontier(session, 10) == []
        rows = {row["key"]: row for row in frontier_rows(session)}
    assert rows["no-site.example"]["attempts"] == MAX_ATTEMPTS and not rows["no-site.example"]["crawled"]
    assert rows["live-site.example"]["crawled"]
