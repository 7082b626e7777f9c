"""Disputes end to end through the real web service: a bank disputes a listed entry with its API
key, a platform operator through the public form; officers answer in their queue; a revocation
approved by a second officer leaves every feed format (CSV, JSON, hosts, domains, RPZ, STIX, TAXII)
as a removal; blocklist.json and STIX carry each entry's dispute status."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.store.models import AuditEvent, Decision, Dispute, Finding
from scanner.web import create_app
from tests.web.feedcheck import (
    assert_removed_everywhere,
    feed_text,
    indicator,
    json_entry,
    listed_everywhere,
    publish_with_bank_key,
    raise_dispute,
)
from tests.web.reviewkit import Seeded, csrf_from, login, make_config, seed


def _published(
    tmp_path: Path, review: str = "", two_person_rule: bool = True, database_url: str | None = None
) -> tuple[Seeded, str]:
    seeded = seed(
        make_config(tmp_path, two_person_rule=two_person_rule, review=review, database_url=database_url)
    )
    return seeded, publish_with_bank_key(seeded, two_person_rule)


def _answer(client: TestClient, token: str, dispute_id: int, action: str, reason: str) -> int:
    response = client.post(
        f"/review/disputes/{dispute_id}/answer",
        data={"action": action, "reason": reason, "csrf_token": token},
    )
    return response.status_code


def test_bank_disputes_with_its_key_status_in_json_and_stix_then_upheld(tmp_path: Path) -> None:
    seeded, key = _published(tmp_path)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    before = json.loads(feed_text(client, key, "blocklist.json"))["version"]
    assert json_entry(client, key, "fastcoin.test")["dispute"] == {"status": "none"}

    body = {"entry": "fastcoin.test", "reason": "we hold a PVARA licence"}
    assert client.post("/feed/v1/disputes", json=body).status_code == 401
    assert (
        client.post("/feed/v1/disputes", json=body, headers={"Authorization": "Bearer pks_wrong"}).status_code
        == 401
    )
    missing = client.post("/feed/v1/disputes", json={"entry": "nowhere.test", "reason": "x"},
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert missing.status_code == 404
    created = raise_dispute(client, key, "fastcoin.test", "we hold a PVARA licence")
    assert created["status"] == "open" and created["version"] == before + 1
    with Session(seeded.engine) as session:
        dispute = session.get(Dispute, created["id"])
        assert dispute is not None and dispute.source == "bank" and dispute.requester == "Test Bank"
        assert dispute.due_at - dispute.opened_at == timedelta(days=5)  # review.dispute_answer_days default

    # Banks see it in blocklist.json (also as a restated entry in the delta) and as a STIX label.
    entry = json_entry(client, key, "fastcoin.test")
    assert entry["dispute"]["status"] == "open" and entry["dispute"]["version"] == before + 1
    assert json_entry(client, key, "fastcoin-pk.test")["dispute"] == {"status": "none"}
    delta = json.loads(feed_text(client, key, "blocklist.json", since=before))
    assert [e["value"] for e in delta["entries"]] == ["fastcoin.test"]
    assert "dispute:open" in indicator(client, key, "fastcoin.test")["labels"]
    assert "dispute:none" in indicator(client, key, "fastcoin-pk.test")["labels"]

    # The officers' queue: its age and the time to answer.
    token = login(client, "alice")
    queue = client.get("/review/disputes").text
    assert "fastcoin.test" in queue and "bank: Test Bank" in queue and 'class="num age">0 min<' in queue
    assert f"/review/disputes/{created['id']}" in queue
    assert "<b>1</b> open." in client.get("/review/dashboard").text
    assert _answer(client, token, created["id"], "uphold", "licence number not on the register") == 303
    assert "No open disputes." in client.get("/review/disputes").text
    assert '<span class="status">upheld</span>' in client.get("/review/disputes?state=closed").text

    entry = json_entry(client, key, "fastcoin.test")
    assert entry["dispute"]["status"] == "upheld" and entry["dispute"]["version"] == before + 2
    upheld = indicator(client, key, "fastcoin.test")
    assert "dispute:upheld" in upheld["labels"] and "revoked" not in upheld
    mine = client.get("/feed/v1/disputes", headers={"Authorization": f"Bearer {key}"}).json()["disputes"]
    assert [(d["status"], d["answer"]) for d in mine] == [("upheld", "licence number not on the register")]
    # answered once: a second answer is refused with what happened
    assert _answer(client, token, created["id"], "revoke", "changed my mind") == 409
    with Session(seeded.engine) as session:
        actions = [
            e.action for e in session.exec(select(AuditEvent).where(AuditEvent.action.startswith("dispute.")))
        ]
    assert actions == ["dispute.opened", "dispute.upheld"]


def test_revocation_approved_by_a_second_officer_leaves_every_feed_format(
    tmp_path: Path, database_url: str
) -> None:
    seeded, key = _published(tmp_path, database_url=database_url)  # SQLite and PostgreSQL
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    assert listed_everywhere(client, key, "fastcoin.test")
    created = raise_dispute(client, key, "fastcoin.test")
    dispute_id = created["id"]

    alice = login(client, "alice")
    assert _answer(client, alice, dispute_id, "revoke", "the licence checks out") == 303
    page = client.get(f"/review/disputes/{dispute_id}").text
    assert "revoke-proposed" in page and 'value="approve-revoke"' not in page  # not for the proposer
    assert _answer(client, alice, dispute_id, "approve-revoke", "self approval") == 409
    assert listed_everywhere(client, key, "fastcoin.test")  # nothing removed yet
    assert json_entry(client, key, "fastcoin.test")["dispute"]["status"] == "open"  # banks see no proposal

    client.post("/review/logout", data={"csrf_token": alice})
    bob = login(client, "bob")
    assert 'value="approve-revoke"' in client.get(f"/review/disputes/{dispute_id}").text
    assert _answer(client, bob, dispute_id, "approve-revoke", "agreed: licensed") == 303
    with Session(seeded.engine) as session:
        finding = session.get(Finding, seeded.findings["fastcoin"])
        assert finding is not None and finding.status == "revoked"
        revoke = session.exec(select(Decision).where(Decision.action == "revoke")).one()
        assert revoke.by_user == "bob" and f"dispute {dispute_id}" in revoke.reason
        dispute = session.get(Dispute, dispute_id)
        assert dispute is not None and dispute.status == "revoked" and dispute.decision_id == revoke.id
        trail = [(e.actor, e.action) for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert ("alice", "dispute.revoke-proposed") in trail and ("bob", "decision.revoke") in trail
    assert ("bob", "dispute.revoked") in trail and ("bank:Test Bank", "dispute.opened") in trail

    # Gone from every format, as a removal where the format has removals.
    removed = assert_removed_everywhere(client, key, {"fastcoin.test", "fastcoin-pk.test"})
    assert removed["fastcoin.test"]["dispute"]["status"] == "revoked"
    assert "agreed: licensed" in removed["fastcoin.test"]["reason"]
    assert "dispute:revoked" in indicator(client, key, "fastcoin.test")["labels"]


def test_operator_form_is_csrf_protected_rate_limited_and_escaped(tmp_path: Path) -> None:
    review = "  dispute_answer_days: 2\n  disputes_per_address_per_hour: 4\n"
    seeded, _key = _published(tmp_path, review=review)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    form = client.get("/dispute")
    assert form.status_code == 200 and "Dispute a blocklist entry" in form.text
    token = csrf_from(form.text)
    hostile = "<script>alert(1)</script> we are licensed"
    data = {"entry": "fastcoin.test", "contact": "ops@fastcoin.test", "reason": hostile}
    assert client.post("/dispute", data=data).status_code == 403  # no CSRF token
    assert (
        client.post("/dispute", data={**data, "contact": "not an address", "csrf_token": token}).status_code
        == 400
    )
    assert (
        client.post("/dispute", data={**data, "entry": "other.test", "csrf_token": token}).status_code == 404
    )
    created = client.post("/dispute", data={**data, "csrf_token": token})
    assert created.status_code == 201 and 'id="dispute-created"' in created.text
    assert (
        client.post("/dispute", data={**data, "entry": "fastcoin-pk.test", "csrf_token": token}).status_code
        == 201
    )
    # four submissions an hour, refused ones included: the form cannot be used to probe the list
    limited = client.post("/dispute", data={**data, "entry": "probe.test", "csrf_token": token})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 3000
    assert "probe.test" not in limited.text.split("<form")[0]
    with Session(seeded.engine) as session:
        disputes = session.exec(select(Dispute).order_by(Dispute.id)).all()
    assert [(d.source, d.requester) for d in disputes] == [("operator", "ops@fastcoin.test")] * 2
    assert disputes[0].due_at - disputes[0].opened_at == timedelta(days=2)
    with Session(seeded.engine) as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "dispute.refused")).all()
    assert [e.detail["entry"] for e in refused] == ["fastcoin.test", "other.test"]

    login(client, "alice")
    page = client.get(f"/review/disputes/{disputes[0].id}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "operator: ops@fastcoin.test" in client.get("/review/disputes").text


@pytest.mark.parametrize("two_person_rule", [False])
def test_without_the_two_person_rule_one_officer_revokes_and_closes_every_dispute_of_the_finding(
    tmp_path: Path, two_person_rule: bool
) -> None:
    seeded, key = _published(tmp_path, two_person_rule=two_person_rule)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    first = raise_dispute(client, key, "fastcoin.test")
    second = raise_dispute(client, key, "fastcoin-pk.test")
    token = login(client, "alice")
    assert _answer(client, token, first["id"], "revoke", "licensed") == 303
    with Session(seeded.engine) as session:
        statuses = [d.status for d in session.exec(select(Dispute).order_by(Dispute.id))]
    assert statuses == ["revoked", "revoked"]
    mine = client.get("/feed/v1/disputes", headers={"Authorization": f"Bearer {key}"}).json()["disputes"]
    assert {d["id"]: d["status"] for d in mine} == {first["id"]: "revoked", second["id"]: "revoked"}
    assert "fastcoin" not in feed_text(client, key, "domains.txt")


def test_finding_page_lists_its_disputes(tmp_path: Path) -> None:
    seeded, key = _published(tmp_path)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    created = raise_dispute(client, key, "fastcoin-pk.test")
    login(client, "alice")
    page = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    assert f'href="/review/disputes/{created["id"]}"' in page and "bank: Test Bank" in page
    assert "dispute.opened" in page  # in the finding's audit trail too


def test_officers_answering_one_dispute_at_once_get_one_answer(tmp_path: Path, database_url: str) -> None:
    """8 officers released together on a proposed revocation, half approving, half upholding (SQLite
    and PostgreSQL): exactly one answer is recorded, the others are refused naming it."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from scanner.review.disputes import DisputeConflict, answer
    from scanner.store.models import User

    seeded, key = _published(tmp_path, database_url=database_url)
    officers = [f"officer{n}" for n in range(8)]
    with Session(seeded.engine) as session:
        session.add_all(User(username=name, password_hash="-", role="officer") for name in officers)
        session.commit()
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    dispute_id = raise_dispute(client, key, "fastcoin.test")["id"]
    answer(seeded.engine, seeded.config, dispute_id, "revoke", "licensed", "alice")
    gate = threading.Barrier(len(officers))

    def one(n: int) -> str:
        action = "approve-revoke" if n % 2 else "uphold"
        gate.wait()
        try:
            answer(seeded.engine, seeded.config, dispute_id, action, f"answer {n}", officers[n])
        except DisputeConflict as exc:
            return f"refused: {exc}"
        return action

    with ThreadPoolExecutor(len(officers)) as pool:
        outcomes = list(pool.map(one, range(len(officers))))
    recorded = [o for o in outcomes if not o.startswith("refused")]
    assert len(recorded) == 1, outcomes
    assert all("already" in o for o in outcomes if o.startswith("refused")), outcomes
    with Session(seeded.engine) as session:
        dispute = session.get(Dispute, dispute_id)
        revokes = session.exec(select(Decision).where(Decision.action == "revoke")).all()
        finding = session.get(Finding, seeded.findings["fastcoin"])
    assert dispute is not None and dispute.status == (
        "revoked" if recorded == ["approve-revoke"] else "upheld"
    )
    assert len(revokes) == (1 if recorded == ["approve-revoke"] else 0)
    assert finding is not None and finding.status == ("revoked" if revokes else "published")
    assert listed_everywhere(client, key, "fastcoin.test") is (not revokes)


def test_a_dispute_past_its_target_time_is_marked_overdue(tmp_path: Path) -> None:
    seeded, key = _published(tmp_path)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    created = raise_dispute(client, key, "fastcoin.test")
    with Session(seeded.engine) as session:
        dispute = session.get(Dispute, created["id"])
        assert dispute is not None
        dispute.opened_at -= timedelta(days=6)  # opened six days ago; the target was five
        dispute.due_at -= timedelta(days=6)
        session.add(dispute)
        session.commit()
    login(client, "alice")
    queue = client.get("/review/disputes").text
    assert 'id="overdue-count">1<' in queue and '<span class="badge">overdue</span>' in queue
    assert 'class="num age">6 d 0 h<' in queue
    assert "past their target time" in client.get("/review/dashboard").text
