"""A page captured by an earlier run, served again with another body: which capture stands for it.

By design (`scanner.crawl.jobs`, `scanner.crawl.capture`) a crawl whose previous runs of the job ended
unfinished (interrupted, degraded, failed) answers the URLs they captured from their WARC records
instead of fetching them again: a crash heals without new requests and without duplicate evidence.
Each capture keeps its own run, time and digests; a replayed page is analysed from the capture it
came from. But the replay had no bound in time: up to 50 unfinished runs back, however old, so a job
whose runs keep ending degraded (a Redis writer, a flaky database, a page that fails its analysis)
answered its pages from the first such run's captures for weeks, and a site that put its offer up
meanwhile was never seen with it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from scanner.config import CrawlSettings
from scanner.store.models import Capture, Finding, PageAnalysis, Platform, Run

from .conftest import CORPUS, Hostile, crawl_site

FLAGGED = (CORPUS / "p01_en_exchange_jazzcash.html").read_bytes()
CLEAR = b"<html><head><title>Hostile</title></head><body><p>A cooking blog. Recipes.</p></body></html>"


REPLAY_MAX_AGE = timedelta(hours=CrawlSettings().replay_max_hours)  # the default


def _crawl(hostile: Hostile, tmp_path: Path, body: bytes, settings: dict | None = None) -> tuple[Session, Run]:
    """A crawl of /changing serving ``body``: a session on its store and its run (loaded, detached)."""
    hostile.changing.append(body)
    try:
        engine, _ = crawl_site(hostile, tmp_path, ["/changing"], settings=settings)
    finally:
        hostile.changing.pop()
    session = Session(engine, expire_on_commit=False)
    return session, session.exec(select(Run).order_by(Run.id.desc())).first()  # type: ignore[union-attr, attr-defined]


def _unfinished(session: Session, run: Run, age: timedelta) -> None:
    """Make ``run`` a degraded run whose captures were fetched ``age`` ago."""
    session.execute(update(Run).where(Run.id == run.id).values(status="degraded"))  # type: ignore[arg-type]
    for capture in session.exec(select(Capture).where(Capture.run_id == run.id)):
        capture.fetched_at = capture.fetched_at - age
        session.add(capture)
    session.commit()


def test_an_old_capture_of_an_unfinished_run_does_not_stand_in_for_the_page(
    hostile: Hostile, tmp_path: Path
) -> None:
    session, first = _crawl(hostile, tmp_path, CLEAR)
    _unfinished(session, first, REPLAY_MAX_AGE + timedelta(hours=1))
    session.close()

    session, second = _crawl(hostile, tmp_path, FLAGGED)
    url = hostile.url("/changing")
    captures = session.exec(select(Capture).where(Capture.url == url).order_by(Capture.id)).all()
    assert [c.run_id for c in captures] == [first.id, second.id], "the page was not fetched again"
    assert captures[0].body_sha256 != captures[1].body_sha256  # each run's evidence is its own
    analyses = session.exec(select(PageAnalysis).where(PageAnalysis.url == url)).all()
    assert {a.capture_id for a in analyses} >= {captures[1].id}
    platform = session.exec(select(Platform).where(Platform.key == "hostile.test")).one()
    finding = session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()
    assert finding.verdict == "flag"
    assert second.stats.get("pkscan/replayed", 0) == 0
    session.close()


def test_a_recent_capture_of_an_unfinished_run_is_replayed_as_designed(
    hostile: Hostile, tmp_path: Path
) -> None:
    session, first = _crawl(hostile, tmp_path, CLEAR)
    _unfinished(session, first, timedelta(minutes=5))
    session.close()

    session, second = _crawl(hostile, tmp_path, FLAGGED)
    url = hostile.url("/changing")
    captures = session.exec(select(Capture).where(Capture.url == url)).all()
    assert [c.run_id for c in captures] == [first.id]  # answered from its WARC record, not fetched
    assert second.stats.get("pkscan/replayed", 0) >= 1
    session.close()


def test_the_replay_age_is_the_operators_to_set(hostile: Hostile, tmp_path: Path) -> None:
    """``crawl.replay_max_hours``: a deployment crawling weekly keeps a crash's captures longer, one that
    must see changes within minutes keeps them shorter."""
    short = {"crawl": {"replay_max_hours": 0.05}}  # three minutes
    session, first = _crawl(hostile, tmp_path, CLEAR, short)
    _unfinished(session, first, timedelta(minutes=5))
    session.close()

    session, second = _crawl(hostile, tmp_path, FLAGGED, short)
    captures = session.exec(select(Capture).where(Capture.url == hostile.url("/changing"))).all()
    assert [c.run_id for c in captures] == [first.id, second.id], "a five-minute-old capture was replayed"
    session.close()
