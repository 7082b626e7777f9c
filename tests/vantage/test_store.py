"""One URL seen from two vantage points is two current documents of a platform (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlmodel import Session, select

from scanner.config import Config
from scanner.observation import ObservationWriter, rules_for
from scanner.store.db import make_engine, session_scope, upgrade
from scanner.store.models import PageAnalysis
from tests.conftest import REPO_ROOT

URL = "http://chenab-exchange.test/"
WORLD = (
    b"<html><body><h1>ChenabX</h1><p>Buy Bitcoin and USDT with Visa. BTC/USDT spot market.</p></body></html>"
)
PAKISTAN = (
    b"<html><body><h1>ChenabX</h1><p>Buy USDT with PKR: USDT/PKR spot market, deposit with JazzCash "
    b"or Easypaisa.</p></body></html>"
)


def test_each_vantage_point_keeps_its_own_current_document(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    rules = rules_for(Config(REPO_ROOT / "config" / "demo", env={}))
    writer = ObservationWriter(engine, rules, None)

    def store(body: bytes, vantage: str | None) -> None:
        with session_scope(engine) as session:
            writer.add(session, [rules.observe(URL, "text/html", body, vantage=vantage)])

    store(WORLD, None)
    store(PAKISTAN, "pk")
    store(WORLD, None)  # the same content again from the same vantage point: a sighting, no new row
    with Session(engine) as session:
        current = {
            p.vantage: p.verdict for p in session.exec(select(PageAnalysis).where(~PageAnalysis.superseded))
        }
        assert len(session.exec(select(PageAnalysis)).all()) == 2
    assert current == {None: "clear", "pk": "flag"}

    store(WORLD, "pk")  # the Pakistani edition changed: it replaces only what pk saw
    with Session(engine) as session:
        rows = session.exec(select(PageAnalysis)).all()
    assert sorted((p.vantage or "", p.superseded) for p in rows) == [("", False), ("pk", False), ("pk", True)]
