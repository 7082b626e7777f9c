"""The decision service: state machine, two-person rule, append-only rows, status cache, audit."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from scanner.review.decisions import DecisionError, allowed_actions, decide, derive_status
from scanner.store.db import session_scope
from scanner.store.models import AuditEvent, Decision, Finding
from tests.web.reviewkit import Seeded, make_config, seed


def rows(*pairs: tuple[str, str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(action=a, by_user=b) for a, b in pairs]


@pytest.mark.parametrize(
    ("decisions", "rule", "expected"),
    [
        ([], True, "new"),
        ([("confirm", "alice")], True, "pending-approval"),
        ([("confirm", "alice")], False, "published"),
        ([("confirm", "alice"), ("approve", "bob")], True, "published"),
        ([("confirm", "alice"), ("approve", "bob"), ("revoke", "bob")], True, "revoked"),
        ([("dismiss", "alice")], True, "dismissed"),
        ([("more-evidence", "alice"), ("confirm", "bob")], True, "pending-approval"),
        ([("confirm", "alice"), ("dismiss", "bob")], True, "dismissed"),
        ([("confirm", "alice"), ("approve", "bob"), ("revoke", "alice"), ("confirm", "alice")], False, "published"),
        # A self-approval stored somehow does not count: the finding stays pending.
        ([("confirm", "alice"), ("approve", "alice")], True, "pending-approval"),
    ],
)
def test_derive_status(decisions: list[tuple[str, str]], rule: bool, expected: str) -> None:
    assert derive_status(rows(*decisions), rule) == expected


def _decide(seeded: Seeded, finding: str, action: str, by: str, reason: str = "checked the evidence") -> str:
    with session_scope(seeded.engine) as session:
        decide(session, seeded.config, seeded.findings[finding], action, reason, by)
        found = session.get(Finding, seeded.findings[finding])
        assert found is not None
        return found.status


@pytest.mark.parametrize(
    ("setup", "action", "by", "message"),
    [
        ([], "approve", "bob", "no confirmation awaiting approval"),
        ([("confirm", "alice")], "approve", "alice", "needs a different officer"),
        ([], "revoke", "alice", "never published"),
        ([("confirm", "alice")], "confirm", "bob", "already pending-approval"),
        ([("confirm", "alice"), ("approve", "bob")], "dismiss", "alice", "revoke it instead"),
        ([], "publish", "alice", "unknown action"),
        ([], "confirm", "mallory", "unknown user"),
    ],
)
def test_illegal_transitions_are_refused_and_nothing_is_written(
    seeded: Seeded, setup: list[tuple[str, str]], action: str, by: str, message: str
) -> None:
    for previous_action, previous_by in setup:
        _decide(seeded, "fastcoin", previous_action, previous_by)
    with Session(seeded.engine) as session:
        before = len(session.exec(select(Decision)).all())
    with pytest.raises(DecisionError, match=message):
        _decide(seeded, "fastcoin", action, by)
    with Session(seeded.engine) as session:
        assert len(session.exec(select(Decision)).all()) == before


def test_reason_is_required(seeded: Seeded) -> None:
    with pytest.raises(DecisionError, match="reason is required"):
        _decide(seeded, "fastcoin", "confirm", "alice", reason="   ")


def test_two_person_rule_flow_is_append_only_and_audited(seeded_any: Seeded) -> None:
    seeded = seeded_any
    assert _decide(seeded, "fastcoin", "confirm", "alice", "JazzCash deposits in PKR, unlicensed") == "pending-approval"
    with Session(seeded.engine) as session:
        first = session.exec(select(Decision)).one().model_dump()
        assert allowed_actions(session.exec(select(Decision)).all(), "alice", True) == ["dismiss", "more-evidence"]
        assert "approve" in allowed_actions(session.exec(select(Decision)).all(), "bob", True)
    assert _decide(seeded, "fastcoin", "approve", "bob", "agree") == "published"
    assert _decide(seeded, "fastcoin", "revoke", "alice", "dispute upheld: licence shown") == "revoked"
    with Session(seeded.engine) as session:
        decisions = session.exec(select(Decision).order_by(Decision.id)).all()
        assert [(d.action, d.by_user) for d in decisions] == [("confirm", "alice"), ("approve", "bob"), ("revoke", "alice")]
        assert decisions[0].model_dump() == first  # earlier rows untouched
        events = session.exec(select(AuditEvent).where(AuditEvent.subject == f"finding:{seeded.findings['fastcoin']}")).all()
        assert [(e.actor, e.action, e.detail["status_after"]) for e in events] == [
            ("alice", "decision.confirm", "pending-approval"),
            ("bob", "decision.approve", "published"),
            ("alice", "decision.revoke", "revoked"),
        ]
        assert events[0].detail["reason"] == "JazzCash deposits in PKR, unlicensed"


def test_rule_off_publishes_on_confirmation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(make_config(tmp_path, two_person_rule=False))
    assert _decide(seeded, "slowex", "confirm", "alice") == "published"
