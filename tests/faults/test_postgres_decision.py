"""PostgreSQL stopped and started again while officers decide, through the real review UI.

Before: a decision sent while the server restarted failed with the outage (a dropped connection was
not retried), and the page said only that the database was unavailable.
After: a restart of a few seconds is ridden out and the decision is recorded exactly once; a longer
outage answers a 503 page saying nothing was changed, records nothing, and the same running server
takes the decision once the database is back; the blocklist agrees with the decision record.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from blocklist.formats import FORMATS
from blocklist.view import load_view
from scanner.review.decisions import decisions_for, record
from scanner.store.db import open_store
from scanner.web.app import create_app
from tests.faults.conftest import Postgres
from tests.web.reviewkit import PASSWORD, csrf_from, flagged_findings, make_config, password_hash

pytestmark = pytest.mark.slow


def officers_client(config, finding_id: int) -> tuple[TestClient, str]:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(config), follow_redirects=False)
    page = client.get("/review/login")
    answer = client.post(
        "/review/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    assert answer.status_code == 303, answer.text
    return client, csrf_from(client.get(f"/review/findings/{finding_id}").text)


def seeded(postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, int]:
    monkeypatch.setenv("SCANNER_DB_RETRY_SECONDS", "30")  # the decision's own cap (10 s) applies
    config = make_config(tmp_path, two_person_rule=False, database_url=postgres.url)
    (finding_id,) = flagged_findings(config, ("bob",), ["restart.test"])
    from scanner.store.db import session_scope
    from scanner.store.models import User

    with session_scope(open_store(config)) as session:
        session.add(User(username="alice", password_hash=password_hash(), role="officer"))
    return config, finding_id


def published_domains(config) -> str:  # type: ignore[no-untyped-def]
    with Session(open_store(config)) as session:
        return FORMATS["domains"].write(load_view(session, config)).decode()


def test_a_restart_during_a_decision_is_ridden_out_and_the_decision_recorded_once(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision service (what the UI and `scanner findings decide` call) meets the restart."""
    config, finding_id = seeded(postgres, tmp_path, monkeypatch)
    engine = open_store(config)
    with Session(engine) as session:
        decisions_for(session, finding_id)  # the pool holds a connection the restart will drop
    postgres.stop()
    restart = threading.Timer(2.0, postgres.start)
    restart.start()
    started = time.monotonic()
    decision, status = record(
        engine, config, finding_id, "confirm", "PKR deposits via JazzCash", "alice", via="cli"
    )
    restart.join()
    assert (decision.action, status) == ("confirm", "published")
    assert 2.0 <= time.monotonic() - started < 10
    with Session(engine) as session:
        assert [(d.action, d.by_user) for d in decisions_for(session, finding_id)] == [("confirm", "alice")]
    assert "restart.test" in published_domains(config)
    # and the UI of a server that ran through the restart takes the next decision
    client, token = officers_client(config, finding_id)
    answer = client.post(
        f"/review/findings/{finding_id}/decisions",
        data={"action": "revoke", "reason": "licensed", "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text
    assert "restart.test" not in published_domains(config)


def test_a_long_outage_answers_503_changes_nothing_and_the_same_server_decides_afterwards(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, finding_id = seeded(postgres, tmp_path, monkeypatch)
    client, token = officers_client(config, finding_id)
    form = {"action": "confirm", "reason": "PKR deposits via JazzCash", "csrf_token": token}
    postgres.stop()
    try:
        answer = client.post(f"/review/findings/{finding_id}/decisions", data=form)
        assert answer.status_code == 503
        assert "The database cannot be reached. Nothing was changed" in answer.text
        assert "Traceback" not in answer.text and "psycopg" not in answer.text
    finally:
        postgres.start()
    with Session(open_store(config)) as session:
        assert decisions_for(session, finding_id) == []
    assert "restart.test" not in published_domains(config)

    again = client.post(f"/review/findings/{finding_id}/decisions", data=form)  # same app, same session
    assert again.status_code == 303, again.text
    with Session(open_store(config)) as session:
        assert [d.action for d in decisions_for(session, finding_id)] == ["confirm"]
    assert "restart.test" in published_domains(config)
