"""Disputes end to end through the real web service: a bank disputes a listed entry with its API
key, a platform operator through the public form; officers answer in their queue; a revocation
approved by a second officer leaves every feed format (CSV, JSON, hosts, domains, RPZ, STIX, TAXII)
as a removal; blocklist.json and STIX carry each entry's dispute status."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import dns.rdatatype
import dns.zone
import pytest
import stix2
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from stix2validator import ValidationOptions, validate_instance, validate_string

from blocklist import keys
from scanner.review.decisions import record
from scanner.store.models import AuditEvent, Decision, Dispute, Finding
from scanner.web import create_app
from tests.web.reviewkit import Seeded, csrf_from, login, make_config, seed

FEEDS = ("blocklist.json", "blocklist.csv", "domains.txt", "hosts.txt", "blocklist.rpz", "stix.json")
COLLECTION = "/taxii2/api/collections/pkscan-blocklist/objects/"


def _published(
    tmp_path: Path, review: str = "", two_person_rule: bool = True, database_url: str | None = None
) -> tuple[Seeded, str]:
    """The review fixtures with fastcoin.test (and its mirror) published by two officers; a bank key."""
    seeded = seed(
        make_config(tmp_path, two_person_rule=two_person_rule, review=review, database_url=database_url)
    )
    finding = seeded.findings["fastcoin"]
    record(seeded.engine, seeded.config, finding, "confirm", "takes PKR via JazzCash", "alice")
    if two_person_rule:
        record(seeded.engine, seeded.config, finding, "approve", "agreed", "bob")
    with Session(seeded.engine) as session:
        _row, raw = keys.create(session, "Test Bank")
        session.commit()
    return seeded, raw


def _feed(client: TestClient, key: str, name: str, **params: int) -> str:
    response = client.get(f"/feed/v1/{name}", headers={"Authorization": f"Bearer {key}"}, params=params)
    assert response.status_code == 200, (name, response.text)
    return response.text


def _json_entry(client: TestClient, key: str, value: str, **params: int) -> dict:
    document = json.loads(_feed(client, key, "blocklist.json", **params))
    found = [e for e in document["entries"] + document["removals"] if e["value"] == value]
    assert found, (value, document)
    return found[0]


def _indicator(client: TestClient, key: str, value: str) -> dict:
    text = _feed(client, key, "stix.json")
    result = validate_string(text, ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    stix2.parse(text, allow_custom=False)  # the dispute status is plain STIX, no custom property
    return next(o for o in json.loads(text)["objects"] if o.get("name") == f"domain {value}")


def _answer(client: TestClient, token: str, dispute_id: int, action: str, reason: str) -> int:
    response = client.post(
        f"/review/disputes/{dispute_id}/answer",
        data={"action": action, "reason": reason, "csrf_token": token},
    )
    return response.status_code


def _raise(client: TestClient, key: str, entry: str, reason: str = "licensed since 2026-01") -> dict:
    response = client.post("/feed/v1/disputes", headers={"Authorization": f"Bearer {key}"},
                           json={"entry": entry, "reason": reason})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def test_bank_disputes_with_its_key_status_in_json_and_stix_then_upheld(tmp_path: Path) -> None:
    seeded, key = _published(tmp_path)
    client = TestClient(create_app(seeded.config), follow_redirects=False)
    before = json.loads(_feed(client, key, "blocklist.json"))["version"]
    assert _json_entry(client, key, "fastcoin.test")["dispute"] == {"status": "none"}

    body = {"entry": "fastcoin.test", "reason": "we hold a PVARA licence"}
    assert client.post("/feed/v1/disputes", json=body).status_code == 401
    assert (
        client.post("/feed/v1/disputes", json=body, headers={"Authorization": "Bearer pks_wrong"}).status_code
        == 401
    )
    missing = client.post("/feed/v1/disputes", json={"entry": "nowhere.test", "reason": "x"},
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert missing.status_code == 404
    created = _raise(client, key, "fastcoin.test", "we hold a PVARA licence")
    assert created["status"] == "open" and created["version"] == before + 1
    with Session(seeded.engine) as session:
        dispute = session.get(Dispute, created["id"])
        assert dispute is not None and dispute.source == "bank" and dispute.requester == "Test Bank"
        assert dispute.due_at - dispute.opened_at == timedelta(days=5)  # review.dispute_answer_days default

    # Banks see it in blocklist.json (also as a restated entry in the delta) and as a STIX label.
    entry = _json_entry(client, key, "fastcoin.test")
    assert entry["dispute"]["status"] == "open" and entry["dispute"]["version"] == before + 1
    assert _json_entry(client, key, "fastcoin-pk.test")["dispute"] == {"status": "none"}
    delta = json.loads(_feed(client, key, "blocklist.json", since=before))
    assert [e["value"] for e in delta["entries"]] == ["fastcoin.test"]
    assert "dispute:open" in _indicator(client, key, "fastcoin.test")["labels"]
    assert "dispute:none" in _indicator(client, key, "fastcoin-pk.test")["labels"]

    # The officers' queue: its age and the time to answer.
    token = login(client, "alice")
    queue = client.get("/review/disputes").text
    assert "fastcoin.test" in queue and "bank: Test Bank" in queue and 'class="num age">0 min<' in queue
    assert f"/review/disputes/{created['id']}" in queue
    assert _answer(client, token, created["id"], "uphold", "licence number not on the register") == 303
    assert "No open disputes." in client.get("/review/disputes").text
    assert '<span class="status">upheld</span>' in client.get("/review/disputes?state=closed").text

    entry = _json_entry(client, key, "fastcoin.test")
    assert entry["dispute"]["status"] == "upheld" and entry["dispute"]["version"] == before + 2
    indicator = _indicator(client, key, "fastcoin.test")
    assert "dispute:upheld" in indicator["labels"] and "revoked" not in indicator
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
    for name in FEEDS:
        assert "fastcoin.test" in _feed(client, key, name), name
    created = _raise(client, key, "fastcoin.test")
    dispute_id = created["id"]

    alice = login(client, "alice")
    assert _answer(client, alice, dispute_id, "revoke", "the licence checks out") == 303
    page = client.get(f"/review/disputes/{dispute_id}").text
    assert "revoke-proposed" in page and 'value="approve-revoke"' not in page  # not for the proposer
    assert _answer(client, alice, dispute_id, "approve-revoke", "self approval") == 409
    for name in FEEDS:  # nothing removed yet
        assert "fastcoin.test" in _feed(client, key, name), name
    assert _json_entry(client, key, "fastcoin.test")["dispute"]["status"] == "open"  # banks see no proposal

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
    document = json.loads(_feed(client, key, "blocklist.json"))
    assert "fastcoin.test" not in {e["value"] for e in document["entries"]}
    removed = {r["value"]: r for r in document["removals"]}
    assert set(removed) == {"fastcoin.test", "fastcoin-pk.test"}
    assert removed["fastcoin.test"]["dispute"]["status"] == "revoked"
    assert "agreed: licensed" in removed["fastcoin.test"]["reason"]
    rows = list(csv.DictReader(io.StringIO(_feed(client, key, "blocklist.csv"))))
    assert {r["value"] for r in rows if r["action"] == "remove"} == {"fastcoin.test", "fastcoin-pk.test"}
    for name in ("domains.txt", "hosts.txt"):
        assert "fastcoin" not in _feed(client, key, name), name
    zone = dns.zone.from_text(
        _feed(client, key, "blocklist.rpz"), origin="rpz.pkscan.local.", relativize=False
    )
    assert not [n for n in zone.nodes if "fastcoin" in n.to_text()]
    assert zone.find_rdataset("rpz.pkscan.local.", dns.rdatatype.SOA)[0].serial == document["version"]
    indicator = _indicator(client, key, "fastcoin.test")
    assert indicator["revoked"] is True and "dispute:revoked" in indicator["labels"]
    taxii = client.get(
        COLLECTION, headers={"Authorization": f"Bearer {key}", "Accept": "application/taxii+json;version=2.1"}
    )
    assert taxii.status_code == 200, taxii.text
    objects = {o.get("name"): o for o in taxii.json()["objects"]}
    assert objects["domain fastcoin.test"]["revoked"] is True
    assert validate_instance(
        objects["domain fastcoin.test"], ValidationOptions(version="2.1", strict=True)
    ).is_valid


def test_operator_form_is_csrf_protected_rate_limited_and_escaped(tmp_path: Path) -> None:
    review = "  dispute_answer_days: 2\n  disputes_per_address_per_hour: 2\n"
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
    limited = client.post("/dispute", data={**data, "csrf_token": token})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 3000
    with Session(seeded.engine) as session:
        disputes = session.exec(select(Dispute).order_by(Dispute.id)).all()
    assert [(d.source, d.requester) for d in disputes] == [("operator", "ops@fastcoin.test")] * 2
    assert disputes[0].due_at - disputes[0].opened_at == timedelta(days=2)

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
    first = _raise(client, key, "fastcoin.test")
    second = _raise(client, key, "fastcoin-pk.test")
    token = login(client, "alice")
    assert _answer(client, token, first["id"], "revoke", "licensed") == 303
    with Session(seeded.engine) as session:
        statuses = [d.status for d in session.exec(select(Dispute).order_by(Dispute.id))]
    assert statuses == ["revoked", "revoked"]
    mine = client.get("/feed/v1/disputes", headers={"Authorization": f"Bearer {key}"}).json()["disputes"]
    assert {d["id"]: d["status"] for d in mine} == {first["id"]: "revoked", second["id"]: "revoked"}
    assert "fastcoin" not in _feed(client, key, "domains.txt")
