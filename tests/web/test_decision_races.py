"""Officers clicking at once: 20 concurrent decisions of every pair of kinds on one finding, on SQLite
and PostgreSQL, through the real decision service (`record`, what the review UI and the CLI call).

After each burst the stored line of decisions must be one the rules allow step by step, the status
must be what it adds up to, and the blocklist (`domains.txt`) must list the finding exactly when it
is published. Before decisions were serialised, 20 approvals recorded 15, an approve and a dismiss
were both accepted, and PostgreSQL answered deadlocks with a bare error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations_with_replacement
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from blocklist.formats import FORMATS
from blocklist.view import load_view
from scanner.config import Config
from scanner.review.decisions import ACTIONS, DecisionConflict, check, decisions_for, derive_status, record
from scanner.store.db import open_store, session_scope
from scanner.store.models import Decision, Finding, User, utcnow
from tests.web.reviewkit import flagged_findings, make_config

OFFICERS = ("alice", "bob", "carol", "dave")
THREADS = 20
PAIRS = list(combinations_with_replacement(ACTIONS, 2))  # 15 pairs, each kind against itself too


def _seed(config: Config, findings: int) -> list[int]:
    return flagged_findings(config, OFFICERS, [f"race-{n}.test" for n in range(findings)])


def _start(pair: tuple[str, str]) -> list[tuple[str, str]]:
    """A state in which the pair is contested: approvals race on a pending confirmation, revocations
    on a published finding, everything else on a new one."""
    if "approve" in pair:
        return [("confirm", "alice")]
    if "revoke" in pair:
        return [("confirm", "alice"), ("approve", "bob")]
    return []


def _burst(config: Config, finding_id: int, pair: tuple[str, str]) -> list[str]:
    """20 threads released together, alternating the pair's kinds and rotating the officers."""
    engine = open_store(config)
    gate = threading.Barrier(THREADS)

    def one(i: int) -> str:
        action, by = pair[i % 2], OFFICERS[i % len(OFFICERS)]
        gate.wait()
        try:
            record(engine, config, finding_id, action, f"thread {i}", by, via="test")
        except DecisionConflict:
            return "refused"
        except Exception as exc:  # anything else is what an officer would see as a crash
            return f"error: {type(exc).__name__}: {exc}"
        return "recorded"

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _assert_record_and_feed_agree(config: Config, finding_id: int, key: str) -> list[Decision]:
    rule = config.settings.review.two_person_rule
    with Session(open_store(config)) as session:
        decisions = decisions_for(session, finding_id)
        finding = session.get(Finding, finding_id)
        assert finding is not None
        assert [d.seq for d in decisions] == list(range(1, len(decisions) + 1))
        for n, decision in enumerate(decisions):  # every stored step was legal when it was taken
            assert check(decisions[:n], decision.action, decision.by_user, rule), decision
        assert finding.status == derive_status(decisions, rule)
        by_id = {d.id: d for d in decisions}
        for approval in (d for d in decisions if d.action == "approve"):
            confirmation = by_id[approval.approves_id]
            assert confirmation.action == "confirm" and confirmation.by_user == approval.confirmer
            assert approval.confirmer != approval.by_user
        domains = FORMATS["domains"].write(load_view(session, config)).decode().split()
    assert (key in domains) == (finding.status == "published"), (finding.status, domains)
    return decisions


def test_concurrent_decisions_of_every_pair_of_kinds(database_url: str, tmp_path: Path) -> None:
    config = make_config(tmp_path, database_url=database_url)
    finding_ids = _seed(config, len(PAIRS))
    engine = open_store(config)
    for n, (pair, finding_id) in enumerate(zip(PAIRS, finding_ids, strict=True)):
        for action, by in _start(pair):
            record(engine, config, finding_id, action, "setup", by, via="test")
        before = len(_assert_record_and_feed_agree(config, finding_id, f"race-{n}.test"))

        outcomes = _burst(config, finding_id, pair)

        assert not [o for o in outcomes if o.startswith("error")], (pair, outcomes)
        decisions = _assert_record_and_feed_agree(config, finding_id, f"race-{n}.test")
        assert len(decisions) - before == outcomes.count("recorded"), pair
        if pair[0] == pair[1] and pair[0] != "more-evidence":
            # the same decision twice in a row is never legal (more-evidence alternates with nothing)
            assert outcomes.count("recorded") == 1, (pair, outcomes)


def test_a_refused_decision_names_the_one_that_got_in_first(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (finding_id,) = _seed(config, 1)
    engine = open_store(config)
    record(engine, config, finding_id, "confirm", "PKR deposits via JazzCash", "alice")
    record(engine, config, finding_id, "approve", "checked", "carol")
    with pytest.raises(DecisionConflict, match=r"status is published\) \(latest decision: approve by carol at "):
        record(engine, config, finding_id, "approve", "checked too", "bob")


def _row(finding_id: int, seq: int, action: str, by: str, **extra: object) -> Decision:
    return Decision(finding_id=finding_id, seq=seq, action=action, reason="direct insert", by_user=by, at=utcnow(),
                    **extra)  # fmt: skip


# Rows a writer that skipped the decision service might try to store, each after one confirmation
# by alice (seq 1); the table refuses every one of them.
ILLEGAL = {
    "two decisions from the same state": dict(seq=1, action="dismiss", by="bob", status_before="new"),
    "the confirming officer approves": dict(
        seq=2, action="approve", by="alice", status_before="pending-approval", confirmer="alice"
    ),
    "an approval naming someone who did not confirm": dict(
        seq=2, action="approve", by="bob", status_before="pending-approval", confirmer="carol"
    ),
    "an approval naming no confirmation": dict(seq=2, action="approve", by="bob", status_before="pending-approval"),
    "a second open confirmation": dict(seq=2, action="confirm", by="bob", status_before="pending-approval"),
    "dismissing a published finding": dict(seq=2, action="dismiss", by="bob", status_before="published"),
    "an unknown action": dict(seq=2, action="publish", by="bob", status_before="pending-approval"),
}


def test_the_table_refuses_what_the_rules_refuse(database_url: str, tmp_path: Path) -> None:
    config = make_config(tmp_path, database_url=database_url)
    engine = open_store(config)
    finding_ids = _seed(config, len(ILLEGAL) + 1)
    for finding_id, (why, illegal) in zip(finding_ids, ILLEGAL.items(), strict=False):
        with session_scope(engine) as session:
            confirmation = _row(finding_id, 1, "confirm", "alice", status_before="new")
            session.add(confirmation)
        fields = dict(illegal)
        if fields.get("confirmer"):
            fields["approves_id"] = confirmation.id
        with pytest.raises(IntegrityError), session_scope(engine) as session:  # noqa: PT012
            session.add(_row(finding_id, fields.pop("seq"), fields.pop("action"), fields.pop("by"), **fields))
            session.flush()
            pytest.fail(f"stored {why}")

    finding_id = finding_ids[-1]  # a legal approval is stored, and only once per confirmation
    with session_scope(engine) as session:
        confirmation = _row(finding_id, 1, "confirm", "alice", status_before="new")
        session.add(confirmation)
    with session_scope(engine) as session:
        session.add(_row(finding_id, 2, "approve", "bob", status_before="pending-approval",
                         approves_id=confirmation.id, confirmer="alice"))  # fmt: skip
    with pytest.raises(IntegrityError), session_scope(engine) as session:  # noqa: PT012
        session.add(_row(finding_id, 3, "approve", "carol", status_before="pending-approval",
                         approves_id=confirmation.id, confirmer="alice"))  # fmt: skip


def test_two_officers_approving_from_the_cli_at_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (finding_id,) = _seed(config, 1)
    record(open_store(config), config, finding_id, "confirm", "PKR deposits via JazzCash", "alice")
    env = dict(os.environ, SCANNER_CONFIG_DIR=str(config.dir), SCANNER_DATA_DIR=str(config.data_dir))
    env.pop("SCANNER_DATABASE_URL", None)
    command = [sys.executable, "-m", "scanner.cli.main", "findings", "decide", str(finding_id), "approve"]
    processes = [
        subprocess.Popen([*command, "--reason", "checked", "--by", by], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        for by in ("bob", "carol")
    ]
    results = sorted((p.wait(120), *p.communicate()) for p in processes)
    (ok, ok_out, _), (refused, _, refused_err) = results
    assert ok == 0 and "status is now published" in ok_out
    assert refused == 2 and "refused: cannot approve" in refused_err and "latest decision: approve by" in refused_err


def test_upgrade_keeps_decisions_recorded_before_the_constraints(database_url: str, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import text

    from scanner.store.db import _migrations_dir, make_engine

    config = make_config(tmp_path, database_url=database_url)
    engine = make_engine(config.database_url)
    with _migrations_dir() as scripts, engine.begin() as connection:
        alembic = AlembicConfig()
        alembic.set_main_option("script_location", scripts)
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "crawl_0003")
        connection.execute(text("INSERT INTO platform (key, name, kind, candidate, first_seen)"
                                " VALUES ('old.test', '', 'domain', false, '2026-01-01')"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO finding (platform_id, verdict, score, crypto_service, targets_pakistan, licensed,"
            " status, needs_review, review_note, first_seen, last_seen, sightings, explanation)"
            " VALUES (1, 'flag', 0.9, true, true, false, 'published', false, '', '2026-01-01', '2026-01-01', 1,"
            " '{}')"
        ))
        # what the race used to store: a confirmation approved twice, at the same instant
        for action, by, at in [
            ("confirm", "alice", "2026-01-02"), ("approve", "bob", "2026-01-03"), ("approve", "carol", "2026-01-03")
        ]:  # fmt: skip
            connection.execute(
                text("INSERT INTO decision (finding_id, action, reason, by_user, at)"
                     " VALUES (1, :action, 'old', :by, :at)"),  # fmt: skip
                {"action": action, "by": by, "at": at},
            )
    open_store(config)  # upgrades to the newest revision, as every command does
    with Session(engine) as session:
        for name in OFFICERS:
            session.add(User(username=name, password_hash="-", role="officer"))
        session.commit()
        old = decisions_for(session, 1)
        assert [(d.seq, d.action, d.by_user, d.status_before) for d in old] == [
            (1, "confirm", "alice", None), (2, "approve", "bob", None), (3, "approve", "carol", None),
        ]  # fmt: skip
    decision, status = record(engine, config, 1, "revoke", "licence granted", "dave")
    assert (decision.seq, decision.status_before, status) == (4, "published", "revoked")


def test_a_deadlocked_decision_is_retried_and_recorded_once(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL aborts one side of a real deadlock; the decision is that side and is re-run."""
    from sqlalchemy import text

    from blocklist.publish import PUBLICATION_LOCK
    from scanner.store.serial import named_lock

    config = make_config(tmp_path, database_url=pg_url)
    (finding_id,) = _seed(config, 1)
    engine = open_store(config)
    record(engine, config, finding_id, "confirm", "PKR deposits via JazzCash", "alice")
    outcome: list[object] = []
    with Session(engine) as other:
        named_lock(other, PUBLICATION_LOCK)  # another transaction publishing ...
        approving = threading.Thread(
            target=lambda: outcome.append(record(engine, config, finding_id, "approve", "checked", "bob"))
        )
        approving.start()
        waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        with engine.connect() as probe:  # ... until the decision, holding its finding, waits for it
            for _ in range(6000):
                if probe.execute(waiting).scalar():
                    break
                probe.rollback()
                time.sleep(0.01)
        other.exec(select(Finding).where(Finding.id == finding_id).with_for_update())  # ... then wants that finding
        other.commit()
    approving.join(60)
    assert outcome and outcome[0][1] == "published"  # type: ignore[index]
    assert "deadlock detected" in caplog.text
    with Session(engine) as session:
        assert [d.action for d in decisions_for(session, finding_id)] == ["confirm", "approve"]
