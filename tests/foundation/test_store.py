"""The store on SQLite and PostgreSQL: migrations, round trips, append-only decisions."""

from __future__ import annotations

from sqlalchemy import insert, inspect, text
from sqlmodel import Session, select

from scanner.runs import finish_run, recent_runs, record_skipped, start_run
from scanner.store.db import make_engine, upgrade
from scanner.store.models import (
    BlocklistEntry,
    Capture,
    Decision,
    Finding,
    Platform,
    PlatformDomain,
    Publication,
    Run,
    Signal,
    User,
    utcnow,
)

EXPECTED_TABLES = {
    "platform",
    "platformdomain",
    "run",
    "capture",
    "pageanalysis",
    "finding",
    "findingevent",
    "signal",
    "candidate",
    "pollsnapshot",
    "p2pad",
    "decision",
    "publication",
    "blocklistentry",
    "user",
    "apikey",
    "delivery",
    "auditevent",
    "schedulerlock",
    "alembic_version",
}


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op, as on every CLI start
    tables = set(inspect(engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    with engine.connect() as conn:
        heads = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    assert heads, "alembic_version is empty"


def test_a_start_on_a_current_schema_knows_it_without_alembic(database_url: str) -> None:
    """`upgrade` skips Alembic when the database is at the heads: the heads it reads from the scripts
    are Alembic's, and a database missing one of them is not taken for current."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from scanner.store.db import _migrations_dir, _script_heads, at_heads

    with _migrations_dir() as location:
        config = AlembicConfig()
        config.set_main_option("script_location", location)
        heads = _script_heads()
        assert heads == set(ScriptDirectory.from_config(config).get_heads())
    engine = make_engine(database_url)
    assert not at_heads(engine)  # nothing there yet
    upgrade(engine)
    assert at_heads(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = :head"), {"head": min(heads)})
    assert not at_heads(engine)


def test_round_trip_of_a_finding_with_evidence_and_decisions(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    run_id = start_run(engine, "crawl", "site", trigger="test")
    with Session(engine) as session:
        platform = Platform(key="rupee-exchange.test", name="Rupee Exchange")
        session.add(platform)
        session.commit()
        session.add(PlatformDomain(platform_id=platform.id, value="www.rupee-exchange.test"))
        capture = Capture(
            seq=1,
            run_id=run_id,
            platform_id=platform.id,
            url="http://rupee-exchange.test/",
            final_url="http://rupee-exchange.test/",
            status=200,
            content_type="text/html; charset=utf-8",
            fetched_at=utcnow(),
            remote_ip="127.0.0.1",
            warc_file="warc/a.warc.gz",
            warc_offset=0,
            warc_length=100,
            record_id="<urn:uuid:1>",
            body_sha256="ab" * 32,
            prev_chain_hash="0" * 64,
            chain_hash="cd" * 32,
        )
        finding = Finding(
            platform_id=platform.id,
            verdict="flag",
            score=0.91,
            crypto_service=True,
            targets_pakistan=True,
            explanation={"targets_pakistan": ["JazzCash deposit", "روپے"]},
        )
        session.add_all([capture, finding])
        session.commit()
        session.add(
            Signal(
                finding_id=finding.id,
                capture_id=capture.id,
                kind="payment_rail",
                value="JazzCash",
                snippet="Deposit with JazzCash — جاز کیش",
                locator="/html/body/p[2]",
                weight=0.3,
            )
        )
        session.add(
            Decision(
                finding_id=finding.id,
                seq=1,
                action="confirm",
                reason="PKR P2P with JazzCash",
                by_user="officer1",
            )
        )
        session.add(User(username="officer1", password_hash="$argon2id$x", role="officer"))
        session.add(Publication(adds=1))
        session.commit()
        session.add(
            BlocklistEntry(
                entry_id="e1",
                type="domain",
                value="rupee-exchange.test",
                platform_id=platform.id,
                finding_id=finding.id,
                first_seen=finding.first_seen,
                version_added=1,
            )
        )
        session.commit()

    with Session(engine) as session:
        finding = session.exec(select(Finding)).one()
        assert finding.explanation["targets_pakistan"][1] == "روپے"
        assert finding.first_seen.tzinfo is not None
        signal = session.exec(select(Signal)).one()
        assert signal.snippet.endswith("جاز کیش")
        capture = session.exec(select(Capture)).one()
        assert (capture.seq, capture.remote_ip, capture.body_sha256) == (1, "127.0.0.1", "ab" * 32)
        assert session.exec(select(Decision)).one().by_user == "officer1"
        assert session.exec(select(BlocklistEntry)).one().version_added == 1


def test_text_no_database_holds_is_stored_with_replacement_characters(database_url: str) -> None:
    """NUL (PostgreSQL refuses it in text) and lone surrogates (no UTF-8 holds them), written by the
    ORM, a Core executemany, a text() statement and into a JSON column: U+FFFD on both back ends."""
    engine = make_engine(database_url)
    upgrade(engine)
    hostile = "Rupee\x00X\ud800"
    shown = "Rupee\ufffdX\ufffd"
    run_id = start_run(engine, "crawl", "site", trigger="test")
    with Session(engine) as session:
        session.add(Platform(key="nul.test", name=hostile))
        session.commit()
        explanation = {hostile: [hostile, 1, {"k": hostile}], "x": [float("inf"), float("nan"), 0.5]}
        session.add(Finding(platform_id=1, explanation=explanation))
        session.commit()
        session.execute(
            insert(Signal.__table__),  # type: ignore[attr-defined]
            [{"finding_id": 1, "kind": "brand", "value": hostile, "snippet": f"{hostile} {i}", "locator": "",
              "weight": 0.1, "seen_at": utcnow()} for i in range(3)],
        )  # fmt: skip
        session.add_all(  # the ORM's batched INSERT ... VALUES (...), (...) RETURNING
            Signal(finding_id=1, kind="brand", value=hostile, snippet=f"{hostile} {i}") for i in range(3, 6)
        )
        session.execute(
            text("UPDATE run SET error_summary = :summary WHERE id = :id"), {"summary": hostile, "id": run_id}
        )
        session.commit()
    with Session(engine) as session:
        assert session.exec(select(Platform)).one().name == shown
        stored = session.exec(select(Finding)).one().explanation
        assert stored == {shown: [shown, 1, {"k": shown}], "x": [None, None, 0.5]}  # JSON has no NaN
        assert sorted(s.snippet for s in session.exec(select(Signal))) == [f"{shown} {i}" for i in range(6)]
        assert session.exec(select(Run)).one().error_summary == shown


def test_run_history_records_status_and_stats(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    run_id = start_run(engine, "poll", "binance-p2p")
    finish_run(
        engine,
        run_id,
        "failed",
        pages=3,
        errors=1,
        error_summary="HTML instead of JSON",
        stats={"retries": 2},
    )
    skipped = record_skipped(engine, "poll", "binance-p2p", "previous run still going")
    runs = {r.id: r for r in recent_runs(engine)}
    assert runs[run_id].status == "failed" and runs[run_id].stats == {"retries": 2}
    assert runs[run_id].finished_at is not None
    assert runs[skipped].status == "skipped" and "still going" in runs[skipped].error_summary


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def _upgrade_in_child(url: str) -> None:
    upgrade(make_engine(url))


def test_processes_starting_together_on_a_fresh_database_all_succeed(database_url: str) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_upgrade_in_child, args=(database_url,)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert "capture" in inspect(make_engine(database_url)).get_table_names()
