"""The review web app over HTTP: login, sessions, CSRF, rate limit, roles, pages, decisions, headers."""

from __future__ import annotations

import os
import re
import stat

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.store.models import AuditEvent, Finding
from scanner.web import create_app
from scanner.web.security.secret import SECRET_FILE
from tests.web.reviewkit import PASSWORD, Seeded, csrf_from, login

PUBLIC_PREFIXES = ("/feed/", "/taxii2", "/metrics", "/static")
PUBLIC_PATHS = {"/healthz", "/review/login", "/", "/dispute"}  # /dispute: the operators' form


def _routes(client: TestClient) -> list[tuple[str, set[str], object]]:
    """(path, methods, dependant) of every HTTP route, including those of included routers."""
    contexts = iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
    return [(c.path, set(c.methods), getattr(c, "dependant", None)) for c in contexts if c.methods]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_no_route_is_reachable_without_login(client: TestClient) -> None:
    checked = 0
    for path, methods, _dependant in _routes(client):
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            continue
        for method in methods:
            response = client.request(method, _concrete(path))
            assert response.status_code in (303, 403), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/review/login"), path
            checked += 1
    assert checked >= 10


def test_unauthenticated_redirect_keeps_the_target(client: TestClient) -> None:
    response = client.get("/review/findings/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/review/login?next=/review/findings/1"


def test_every_review_route_requires_a_role(client: TestClient) -> None:
    from scanner.web.auth import require_admin, require_officer

    checked = 0
    for path, _methods, dependant in _routes(client):
        if path.startswith("/review/") and path != "/review/login":
            calls = {d.call for d in dependant.dependencies}  # type: ignore[attr-defined]
            assert calls & {require_officer, require_admin}, path
            checked += 1
    assert checked >= 10


def test_login_success_failure_and_audit(client: TestClient, seeded: Seeded) -> None:
    page = client.get("/review/login")
    token = csrf_from(page.text)
    bad = client.post("/review/login", data={"username": "alice", "password": "wrong password", "csrf_token": token})
    assert bad.status_code == 401
    assert "Invalid username or password" in bad.text
    assert client.get("/review/").status_code == 303
    good = client.post(
        "/review/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/review/runs"},
    )
    assert good.status_code == 303 and good.headers["location"] == "/review/runs"
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/review/").status_code == 200
    with Session(seeded.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor == "alice"))]
    assert actions == ["login.failed", "login"]


def test_open_redirect_is_refused(client: TestClient) -> None:
    token = csrf_from(client.get("/review/login").text)
    response = client.post(
        "/review/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.headers["location"] == "/review/"


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/review/login")
    response = client.post("/review/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    forged = client.post("/review/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert client.get("/review/").status_code == 303


def test_login_rate_limit(client: TestClient, seeded: Seeded) -> None:
    token = csrf_from(client.get("/review/login").text)
    limit = seeded.config.settings.review.login_attempts_per_minute
    for _ in range(limit):
        response = client.post("/review/login", data={"username": "bob", "password": "nope nope", "csrf_token": token})
        assert response.status_code == 401
    blocked = client.post("/review/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert client.get("/review/").status_code == 303
    # The count lives in the audit trail, so another web server on the same database agrees.
    other_server = TestClient(create_app(seeded.config), follow_redirects=False)
    other_token = csrf_from(other_server.get("/review/login").text)
    again = other_server.post("/review/login", data={"username": "bob", "password": PASSWORD, "csrf_token": other_token})
    assert again.status_code == 429
    # Another username from the same address is not locked out by bob's failures.
    other = client.post("/review/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert other.status_code == 303


def test_logout_ends_the_session_on_every_server(as_alice: tuple[TestClient, str], seeded: Seeded) -> None:
    client, token = as_alice
    stolen = client.cookies.get("pkscan_session") or ""
    other_server = TestClient(create_app(seeded.config), follow_redirects=False)
    other_server.cookies.set("pkscan_session", stolen)
    assert other_server.get("/review/").status_code == 200
    assert client.post("/review/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/review/").status_code == 303
    assert other_server.get("/review/").status_code == 303  # the copied cookie is dead there too


def test_officer_cannot_reach_admin_pages_but_admin_can(client: TestClient) -> None:
    login(client, "alice")
    for path in ("/review/admin/users", "/review/admin/audit"):
        assert client.get(path).status_code == 403
    client.cookies.clear()
    login(client, "root")
    users = client.get("/review/admin/users")
    assert users.status_code == 200 and "alice" in users.text and "officer" in users.text
    audit = client.get("/review/admin/audit")
    assert audit.status_code == 200 and "login" in audit.text


def test_queue_ranks_filters_and_counts(seeded_any: Seeded) -> None:
    client = TestClient(create_app(seeded_any.config), follow_redirects=False)
    login(client, "alice")
    page = client.get("/review/").text
    order = [m for m in re.findall(r">([a-z0-9.]+\.test)</a>", page)]
    assert order == ["fastcoin.test", "p2pbig.test", "slowex.test"]  # by score; the clear one hidden
    assert 'data-count="new">4<' in page
    assert re.findall(r">([a-z0-9.]+\.test)</a>", client.get("/review/?kind=urdu_term").text) == ["slowex.test"]
    assert re.findall(r">([a-z0-9.]+\.test)</a>", client.get("/review/?platform=P2P").text) == ["p2pbig.test"]
    licensed = client.get("/review/?licence=licensed&verdict=all").text
    assert re.findall(r">([a-z0-9.]+\.test)</a>", licensed) == ["licensedex.test"]
    old = client.get("/review/?until=2000-01-01").text
    assert "No findings match" in old
    assert client.get("/review/?since=yesterday").status_code == 400


def test_finding_page_shows_evidence_and_exposure(as_alice: tuple[TestClient, str], seeded: Seeded) -> None:
    client, _ = as_alice
    page = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    for text in ("fastcoin-pk.test", "PKR deposits via JazzCash", "Deposit PKR with JazzCash instantly", "sighting"):
        assert text in page
    assert f"/review/captures/{seeded.captures['fastcoin']}?finding={seeded.findings['fastcoin']}" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page  # snippets are escaped
    p2p = client.get(f"/review/findings/{seeded.findings['p2pbig']}").text
    assert "jazzcash" in p2p and "1,800,000" in p2p


def test_capture_text_view_escapes_and_highlights(as_alice: tuple[TestClient, str], seeded: Seeded) -> None:
    client, _ = as_alice
    page = client.get(f"/review/captures/{seeded.captures['fastcoin']}?finding={seeded.findings['fastcoin']}").text
    assert "<mark>Deposit PKR with JazzCash instantly</mark>" in page
    assert "<script>document.title" not in page and "onerror" not in page
    raw = client.get(f"/review/captures/{seeded.captures['fastcoin']}/raw")
    assert raw.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert raw.headers["x-content-type-options"] == "nosniff"


def test_decisions_through_the_web_with_two_officers(client: TestClient, seeded: Seeded) -> None:
    finding_id = seeded.findings["fastcoin"]
    token = login(client, "alice")
    url = f"/review/findings/{finding_id}/decisions"
    assert client.post(url, data={"action": "confirm", "reason": "", "csrf_token": token}).status_code == 400
    assert client.post(url, data={"action": "confirm", "reason": "unlicensed, PKR rails"}).status_code == 403
    assert client.post(url, data={"action": "confirm", "reason": "unlicensed, PKR rails", "csrf_token": token}).status_code == 303
    self_approve = client.post(url, data={"action": "approve", "reason": "me again", "csrf_token": token})
    assert self_approve.status_code == 409 and "different officer" in self_approve.text
    client.cookies.clear()
    token = login(client, "bob")
    page = client.get(f"/review/findings/{finding_id}").text
    assert 'value="approve"' in page
    assert client.post(url, data={"action": "approve", "reason": "second look agrees", "csrf_token": token}).status_code == 303
    with Session(seeded.engine) as session:
        assert session.get(Finding, finding_id).status == "published"  # type: ignore[union-attr]
    page = client.get(f"/review/findings/{finding_id}").text
    assert "second look agrees" in page and "unlicensed, PKR rails" in page
    # The bank feed this app serves reads this app's database: the approval reached it.
    from blocklist import keys
    from scanner.store.db import session_scope

    with session_scope(seeded.engine) as session:
        _row, raw_key = keys.create(session, "Test Bank")
    feed = client.get("/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {raw_key}"})
    assert feed.status_code == 200 and "fastcoin.test" in feed.text


def test_security_headers(as_alice: tuple[TestClient, str]) -> None:
    client, _ = as_alice
    response = client.get("/review/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script>" not in response.text  # no inline script anywhere
    assert client.get("/static/app.js").status_code == 200


def test_secret_key_is_private_and_reused(seeded: Seeded) -> None:
    path = seeded.config.data_dir / SECRET_FILE
    create_app(seeded.config)
    first = path.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    create_app(seeded.config)
    assert path.read_bytes() == first


@pytest.mark.parametrize("path", ["/review/findings/999", "/review/captures/999"])
def test_unknown_ids_are_404(as_alice: tuple[TestClient, str], path: str) -> None:
    client, _ = as_alice
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html") and "999 not found" in response.text


def test_run_status_page(as_alice: tuple[TestClient, str]) -> None:
    client, _ = as_alice
    page = client.get("/review/runs").text
    assert 'class="run-running"' in page and "exchanges" in page and "binance_p2p" in page


def test_disabled_account_loses_its_session(as_alice: tuple[TestClient, str], seeded: Seeded) -> None:
    from scanner.store.db import session_scope
    from scanner.store.models import User

    client, _ = as_alice
    assert client.get("/review/").status_code == 200
    with session_scope(seeded.engine) as session:
        alice = session.exec(select(User).where(User.username == "alice")).one()
        alice.disabled = True
        session.add(alice)
    assert client.get("/review/").status_code == 303


def test_forged_session_cookie_is_rejected(client: TestClient) -> None:
    import base64
    import json

    login(client, "alice")
    cookie = client.cookies.get("pkscan_session") or ""
    body, mac = cookie.rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["uid"] = 3  # try to become the admin
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    client.cookies.clear()
    client.cookies.set("pkscan_session", f"{forged}.{mac}")
    assert client.get("/review/admin/users").status_code == 303


def test_queue_pages_and_admin_audit_filter(client: TestClient, seeded: Seeded) -> None:
    from scanner.store.db import session_scope
    from scanner.store.models import Platform

    with session_scope(seeded.engine) as session:
        for n in range(101):
            platform = Platform(key=f"bulk{n:03d}.test")
            session.add(platform)
            session.flush()
            session.add(Finding(platform_id=platform.id or 0, verdict="flag", score=0.01))
    login(client, "root")
    first = client.get("/review/?platform=bulk").text
    assert len(re.findall(r">(bulk\d+\.test)</a>", first)) == 100 and "next →" in first
    second = client.get("/review/?platform=bulk&page=2").text
    assert len(re.findall(r">(bulk\d+\.test)</a>", second)) == 1 and "← previous" in second
    audit = client.get("/review/admin/audit?actor=nobody").text
    assert "No events." in audit
    assert "login" in client.get("/review/admin/audit?actor=root").text


def test_finding_page_leaves_out_signals_of_superseded_pages(as_alice: tuple[TestClient, str], seeded: Seeded) -> None:
    from scanner.store.models import PageAnalysis, Signal

    client, _ = as_alice
    finding_id = seeded.findings["fastcoin"]
    with Session(seeded.engine) as session:
        page = PageAnalysis(platform_id=session.get(Finding, finding_id).platform_id, url="http://fastcoin-pk.test/old",
                            superseded=True)
        session.add(page)
        session.flush()
        session.add(Signal(finding_id=finding_id, page_analysis_id=page.id, kind="roman_urdu",
                           value="purana offer", snippet="OLD-PAGE-SNIPPET purana offer"))
        session.commit()
        assert session.exec(select(Signal).where(Signal.value == "purana offer")).one()
    assert "OLD-PAGE-SNIPPET" not in client.get(f"/review/findings/{finding_id}").text
