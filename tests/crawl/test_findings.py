"""Findings from documents: de-duplication, changes, mirror grouping (no Scrapy, real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.config import Config
from scanner.detection import Document, analyze, load_lexicons
from scanner.findings import list_findings, record_document, refresh_finding
from scanner.store.db import make_engine, session_scope, upgrade
from scanner.store.models import (
    Decision,
    Finding,
    FindingEvent,
    PageAnalysis,
    Platform,
    PlatformDomain,
    Signal,
)
from tests.conftest import REPO_ROOT

PAGE = """<!doctype html><html lang="en"><head><title>Deposit | {brand}</title>
<meta property="og:site_name" content="{brand}">{canonical}</head><body>
<h1>Buy USDT and Bitcoin with JazzCash and Easypaisa</h1>
<p>Trade crypto in Pakistan. Deposit PKR 5,000 from JazzCash, spot trading BTC/USDT, P2P in PKR.</p>
<p>Contact support@{contact} {extra}</p></body></html>"""


@pytest.fixture(scope="module")
def config() -> Config:
    return Config(REPO_ROOT / "config" / "demo")


@pytest.fixture(scope="module")
def lexicons(config: Config):  # type: ignore[no-untyped-def]
    return load_lexicons(config.lexicon_dir)


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    upgrade(engine)
    return engine


def store(
    engine,
    config,
    lexicons,
    url,
    *,
    brand="RupeeX",
    canonical="",
    contact="rupee.test",
    extra="",
    run_id=None,
):  # type: ignore[no-untyped-def]
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = PAGE.format(brand=brand, canonical=link, contact=contact, extra=extra).encode()
    document = Document(url, "text/html; charset=utf-8", body)
    analysis = analyze(document, lexicons, config.register)
    with session_scope(engine) as session:
        page = record_document(session, analysis, capture=None, run_id=run_id, document=document)
        platform_id = page.platform_id
    with session_scope(engine) as session:
        finding = refresh_finding(session, platform_id, lexicons, config.register, run_id)
    return page, finding


def rows(engine, model):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(model)))


def test_same_content_again_is_a_sighting_changed_content_is_a_change(engine, config, lexicons):
    first, finding = store(engine, config, lexicons, "http://rupee.test/deposit")
    assert finding.verdict == "flag" and finding.sightings == 1
    signals = len(rows(engine, Signal))
    again, finding = store(engine, config, lexicons, "http://rupee.test/deposit")
    assert (
        again.id == first.id and len(rows(engine, PageAnalysis)) == 1 and len(rows(engine, Signal)) == signals
    )
    assert finding.sightings == 2
    changed, finding = store(
        engine, config, lexicons, "http://rupee.test/deposit", extra="New: Raast deposits."
    )
    pages = rows(engine, PageAnalysis)
    assert changed.id != first.id and [p.superseded for p in pages] == [True, False]
    assert [e.kind for e in rows(engine, FindingEvent)] == ["first", "sighting", "change"]


def test_refreshes_within_one_run_keep_one_event(engine, config, lexicons):
    from scanner.runs import start_run

    first_run, second_run = start_run(engine, "crawl", "t"), start_run(engine, "crawl", "t")
    store(engine, config, lexicons, "http://rupee.test/", run_id=first_run)
    store(engine, config, lexicons, "http://rupee.test/a", run_id=second_run)
    _, finding = store(engine, config, lexicons, "http://rupee.test/b", run_id=second_run)
    assert [(e.kind, e.run_id) for e in rows(engine, FindingEvent)] == [
        ("first", first_run),
        ("change", second_run),
    ]
    assert finding.sightings == 2


@pytest.mark.parametrize("mirror_first", [False, True])
def test_mirror_is_grouped_whichever_is_crawled_first(engine, config, lexicons, mirror_first):
    original = ("http://rupee.test/deposit", {})
    mirror = ("http://rupee-mirror.test/deposit", {"canonical": "http://rupee.test/deposit"})
    for url, extra in [mirror, original] if mirror_first else [original, mirror]:
        store(engine, config, lexicons, url, **extra)
    with Session(engine) as session:
        platforms = {p.key: p for p in session.exec(select(Platform))}
        findings = {f.platform_id for f in session.exec(select(Finding))}
        domains = {(d.platform_id, d.value, d.kind) for d in session.exec(select(PlatformDomain))}
    assert platforms["rupee-mirror.test"].mirror_of_id == platforms["rupee.test"].id
    assert platforms["rupee.test"].mirror_of_id is None
    assert findings == {platforms["rupee.test"].id}  # the mirror's documents count towards the original
    assert (platforms["rupee.test"].id, "rupee-mirror.test", "mirror") in domains
    assert {s.finding_id for s in rows(engine, Signal)} == {f.id for f in rows(engine, Finding)}
    with Session(engine) as session:
        listed = list_findings(session)
    assert [(r["platform"], r["mirrors"]) for r in listed] == [("rupee.test", ["rupee-mirror.test"])]


def test_same_text_without_canonical_groups_under_the_first_seen(engine, config, lexicons):
    store(engine, config, lexicons, "http://first.test/deposit", contact="first.test")
    store(engine, config, lexicons, "http://second.test/deposit", contact="second.test")  # host names masked
    with Session(engine) as session:
        platforms = {p.key: p for p in session.exec(select(Platform))}
    assert platforms["second.test"].mirror_of_id == platforms["first.test"].id


def test_different_brand_or_hosted_platforms_are_never_grouped(engine, config, lexicons):
    store(engine, config, lexicons, "http://rupee.test/deposit")
    store(engine, config, lexicons, "http://other.test/deposit", brand="OtherX")
    store(engine, config, lexicons, "http://t.me/rupeex", canonical="http://rupee.test/deposit")
    with Session(engine) as session:
        platforms = {p.key: p for p in session.exec(select(Platform))}
    assert platforms["other.test"].mirror_of_id is None
    assert platforms["t.me/rupeex"].mirror_of_id is None and platforms["t.me/rupeex"].kind == "hosted"


def test_a_decided_mirror_finding_is_kept_for_review(engine, config, lexicons):
    # The mirror is crawled first: until the original appears it is a platform of its own.
    _, mirror_finding = store(engine, config, lexicons, "http://rupee-mirror.test/deposit",
                              canonical="http://rupee.test/deposit")  # fmt: skip
    with session_scope(engine) as session:
        session.add(
            Decision(finding_id=mirror_finding.id, seq=1, action="confirm", reason="seen", by_user="officer")
        )
    _, original_finding = store(engine, config, lexicons, "http://rupee.test/deposit")
    with Session(engine) as session:
        kept = session.get(Finding, mirror_finding.id)
        signal_findings = {s.finding_id for s in session.exec(select(Signal))}
    assert kept is not None and kept.needs_review and "mirror of rupee.test" in kept.review_note
    assert signal_findings == {original_finding.id}  # its evidence now counts towards the original


def test_a_page_whose_host_is_no_name_is_skipped_and_its_batch_still_stored(engine, config, lexicons):
    from scanner.observation import ObservationWriter, Rules

    rules = Rules(lexicons, None)

    def pending(url):  # type: ignore[no-untyped-def]
        body = PAGE.format(brand="EvilX", canonical="", contact="evil.test", extra="").encode()
        return rules.observe(url, "text/html", body)

    saver = ObservationWriter(engine, rules, None)
    stored = saver.store([pending("http://=cmd|calc.test/"), pending("http://=1+2.evil.test/"), pending("http://evil.test/")])
    assert stored == 2
    assert [p.key for p in rows(engine, Platform)] == ["evil.test"]
    assert [d.value for d in rows(engine, PlatformDomain)] == ["evil.test"]
