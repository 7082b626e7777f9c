"""Web findings of the hostile-web review (issue 11): login race, CSRF binding, huge ids, the Host
header, and a 503 page when the database is gone."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.store.models import AuditEvent
from scanner.web import create_app
from tests.web.reviewkit import PASSWORD, Seeded, csrf_from, login, make_config, seed, serve


def _audit(seeded: Seeded, action: str) -> list[AuditEvent]:
    with Session(seeded.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


# ---------------------------------------------------------------- login rate limit


def test_thirty_parallel_wrong_logins_do_not_get_past_the_limit(seeded: Seeded) -> None:
    limit = seeded.config.settings.review.login_attempts_per_minute
    with serve(create_app(seeded.config)) as base, httpx.Client(base_url=base, timeout=120) as attacker:
        token = csrf_from(attacker.get("/review/login").text)
        start = threading.Barrier(30)
        statuses: list[int] = []

        def guess() -> None:
            start.wait()
            form = {"username": "bob", "password": "not his password", "csrf_token": token}
            statuses.append(attacker.post("/review/login", data=form).status_code)

        threads = [threading.Thread(target=guess) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # At most `limit` guesses reach the password check, whatever the interleaving; fewer may (an
        # attempt the limit refuses counts against the others until it is marked limited).
        checked = statuses.count(401)
        assert 1 <= checked <= limit and statuses.count(429) == 30 - checked, sorted(statuses)
        assert len(_audit(seeded, "login.failed")) == checked  # only these reached the password check

        # bob, from his own desk, is not locked out by the attacker's address
        with httpx.Client(base_url=base, timeout=120, headers={"X-Forwarded-For": "198.51.100.20"}) as desk:
            form = {"username": "bob", "password": PASSWORD, "csrf_token": csrf_from(desk.get("/review/login").text)}
            assert desk.post("/review/login", data=form).status_code == 303
        # the attacker's address stays refused once the minute's guesses are used up, even with the right
        # password, and is told when to retry
        wrong = {"username": "bob", "password": "not his password", "csrf_token": token}
        assert [attacker.post("/review/login", data=wrong).status_code for _ in range(limit - checked)] == [401] * (
            limit - checked
        )
        blocked = attacker.post("/review/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token})
        assert blocked.status_code == 429 and 1 <= int(blocked.headers["retry-after"]) <= 61


def test_one_address_cannot_try_every_username(tmp_path: Path) -> None:
    seeded = seed(make_config(tmp_path))
    per_address = seeded.config.settings.review.login_attempts_per_address_per_minute
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    token = csrf_from(client.get("/review/login").text)
    answers = [
        client.post("/review/login", data={"username": f"user{n}", "password": "guess guess", "csrf_token": token}).status_code
        for n in range(per_address + 1)
    ]
    assert answers == [401] * per_address + [429]


# ---------------------------------------------------------------- CSRF


def test_the_csrf_token_from_before_login_is_dead_after_it(client: TestClient, seeded: Seeded) -> None:
    before = csrf_from(client.get("/review/login").text)
    form = {"username": "alice", "password": PASSWORD, "csrf_token": before}
    assert client.post("/review/login", data=form).status_code == 303
    url = f"/review/findings/{seeded.findings['fastcoin']}/decisions"
    stale = client.post(url, data={"action": "confirm", "reason": "r", "csrf_token": before})
    assert stale.status_code == 403
    fresh = csrf_from(client.get("/review/").text)
    assert fresh != before
    assert client.post(url, data={"action": "confirm", "reason": "unlicensed", "csrf_token": fresh}).status_code == 303


def test_a_csrf_token_only_works_with_its_own_session(seeded: Seeded) -> None:
    app = create_app(seeded.config)
    attacker, victim = TestClient(app, follow_redirects=False), TestClient(app, follow_redirects=False)
    attacker_token = login(attacker, "bob")
    login(victim, "alice")
    # the attacker's cookie planted in the victim's browser, his token in a forged form
    victim.cookies.set("pkscan_csrf", attacker.cookies.get("pkscan_csrf") or "")
    url = f"/review/findings/{seeded.findings['fastcoin']}/decisions"
    forged = victim.post(url, data={"action": "dismiss", "reason": "forged", "csrf_token": attacker_token})
    assert forged.status_code == 403


def test_cookies_over_https_are_host_prefixed_and_secure(seeded: Seeded) -> None:
    client = TestClient(create_app(seeded.config), base_url="https://testserver", follow_redirects=False)
    page = client.get("/review/login")
    assert page.headers["set-cookie"].startswith("__Host-pkscan_csrf=")
    form = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    response = client.post("/review/login", data=form)
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("__Host-pkscan_session="))
    assert all(part in session for part in ("Secure", "HttpOnly", "Path=/", "SameSite=strict"))
    assert "Domain" not in session
    assert client.get("/review/").status_code == 200


# ---------------------------------------------------------------- ids out of range


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64, 10**30])
def test_ids_beyond_the_database_integer_are_404(seeded_any: Seeded, number: int) -> None:
    client = TestClient(create_app(seeded_any.config), follow_redirects=False)
    token = login(client, "alice")
    capture = seeded_any.captures["fastcoin"]
    for path in (
        f"/review/?page={number}",
        f"/review/findings/{number}",
        f"/review/findings/{number}/bundle",
        f"/review/captures/{number}",
        f"/review/captures/{number}/raw",
        f"/review/captures/{capture}?finding={number}",
    ):
        assert client.get(path).status_code == 404, path
    post = client.post(f"/review/findings/{number}/decisions", data={"action": "confirm", "reason": "x", "csrf_token": token})
    assert post.status_code == 404


# ---------------------------------------------------------------- Host header


def test_a_foreign_host_header_is_refused_and_redirects_are_relative(client: TestClient) -> None:
    assert client.get("/review/login", headers={"Host": "evil.test"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "evil.test"}).status_code == 400
    redirect = client.get("/review")  # Starlette's trailing-slash redirect
    assert redirect.status_code in (307, 308) and redirect.headers["location"] == "/review/"


# ---------------------------------------------------------------- database outage


def test_the_ui_answers_a_lost_database_with_a_503_page(pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    seeded = seed(make_config(tmp_path, database_url=pg_url))
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    login(client, "alice")
    assert client.get("/review/").status_code == 200
    admin = create_engine(os.environ["SCANNER_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the database goes away under the running app
        conn.execute(text(f'DROP DATABASE "{make_url(pg_url).database}" WITH (FORCE)'))
    admin.dispose()
    for path in ("/review/", f"/review/findings/{seeded.findings['fastcoin']}", "/review/login"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "The database cannot be reached" in page.text and page.headers["retry-after"] == "30"
        assert "<html" in page.text.lower() and "Traceback" not in page.text
    assert client.get("/healthz").status_code == 503
