"""Officer decisions: append-only rows, and a finding's status derived from them.

Nothing reaches a bank without a person deciding it. The decision service is the one place that
adds `Decision` rows (the review UI, ``scanner findings decide`` and tests all call `decide`), so the
state machine below is enforced everywhere:

    new / more-evidence / dismissed / revoked --confirm--> pending-approval   (two-person rule on)
                                              --confirm--> published          (rule off)
    pending-approval --approve (a different officer)--> published
    any state but published --dismiss--> dismissed, --more-evidence--> more-evidence
    published --revoke--> revoked (dispute upheld; the feed lists a removal)

Rows are never updated or deleted; `Finding.status` is a cache of `derive_status`, rewritten on
every decision. After each decision the blocklist is re-synchronised (`blocklist.publish.sync`) in
the same transaction, so a published status and its blocklist entry commit together.

Decisions on one finding are serialised: `decide` locks the finding before it reads the decisions
it checks against (`scanner.store.serial`), so of two officers clicking at once the second is
checked against the first one's decision and, if that makes it illegal, refused with a
`DecisionConflict` naming what happened. The table's constraints (`Decision`) refuse what the
state machine refuses even if some other writer skipped the check. `record` runs one decision in
its own transaction and retries it when PostgreSQL aborts it as a deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from blocklist import publish
from scanner.config import Config
from scanner.review import audit
from scanner.store.db import retry_seconds, transient
from scanner.store.db import retrying as db_retrying
from scanner.store.models import DECISION_ACTIONS, Decision, Finding, User, utcnow
from scanner.store.serial import RetriesExhausted, lock_row, retrying

log = logging.getLogger(__name__)

ACTIONS = DECISION_ACTIONS
STATUSES = ("new", "pending-approval", "published", "dismissed", "more-evidence", "revoked")
MAX_REASON = 4000


class DecisionError(ValueError):
    """A decision that is not allowed; str() tells the officer why."""


class DecisionConflict(DecisionError):
    """The finding's current state does not allow this decision (HTTP 409)."""


class DecisionBusy(DecisionConflict):
    """The database kept aborting the decision (deadlocks); nothing was recorded, try again."""


class _DecisionLike(Protocol):
    action: str
    by_user: str


@dataclass
class _State:
    status: str = "new"
    confirmed_by: str | None = None
    confirmation_id: int | None = None  # the confirmation awaiting approval or published


def _step(state: _State, action: str, by: str, two_person_rule: bool, decision_id: int | None = None) -> _State:
    """Apply one action to ``state``; raise DecisionConflict if the transition is illegal."""
    status = state.status
    if action == "confirm":
        if status in ("pending-approval", "published"):
            raise DecisionConflict(f"cannot confirm: the finding is already {status}")
        return _State("pending-approval" if two_person_rule else "published", by, decision_id)
    if action == "approve":
        if status != "pending-approval":
            raise DecisionConflict(
                f"cannot approve: there is no confirmation awaiting approval (status is {status})"
            )
        if by == state.confirmed_by:
            raise DecisionConflict(
                f"cannot approve: {by} confirmed this finding; the two-person rule needs a different officer"
            )
        return _State("published", state.confirmed_by, state.confirmation_id)
    if action == "revoke":
        if status != "published":
            raise DecisionConflict(f"cannot revoke: the finding was never published (status is {status})")
        return _State("revoked")
    if action in ("dismiss", "more-evidence"):
        target = "dismissed" if action == "dismiss" else "more-evidence"
        if status == "published":
            raise DecisionConflict(f"cannot {action}: the finding is published; revoke it instead")
        if status == target:
            raise DecisionConflict(f"cannot {action}: the finding is already {status}")
        return _State(target)
    raise DecisionError(f"unknown action {action!r} (expected one of: {', '.join(ACTIONS)})")


def _replay(decisions: Iterable[_DecisionLike], two_person_rule: bool) -> _State:
    state = _State()
    for decision in decisions:
        try:
            state = _step(state, decision.action, decision.by_user, two_person_rule, getattr(decision, "id", None))
        except DecisionError:
            # A stored row the current rule would refuse (e.g. an approval recorded after the rule was
            # switched off) changes nothing: the rows stay as the record of what people did.
            continue
    return state


def derive_status(decisions: Sequence[_DecisionLike], two_person_rule: bool) -> str:
    """The status a finding's decisions (oldest first) add up to."""
    return _replay(decisions, two_person_rule).status


def check(decisions: Sequence[_DecisionLike], action: str, by: str, two_person_rule: bool) -> str:
    """The status after ``action`` by ``by``, or DecisionError explaining why it is refused."""
    return _step(_replay(decisions, two_person_rule), action, by, two_person_rule).status


def allowed_actions(decisions: Sequence[_DecisionLike], by: str, two_person_rule: bool) -> list[str]:
    """The actions ``by`` may take now (the UI shows only these buttons)."""
    state = _replay(decisions, two_person_rule)
    allowed = []
    for action in ACTIONS:
        try:
            _step(state, action, by, two_person_rule)
        except DecisionError:
            continue
        allowed.append(action)
    return allowed


def decisions_for(session: Session, finding_id: int) -> list[Decision]:
    query = select(Decision).where(Decision.finding_id == finding_id)
    return list(session.exec(query.order_by(col(Decision.seq), col(Decision.id))))


def decide(
    session: Session,
    config: Config,
    finding_id: int,
    action: str,
    reason: str,
    by: str,
    *,
    via: str = "web",
) -> Decision:
    """Record one decision, refresh the finding's status, audit it and re-sync the blocklist.

    Everything happens in ``session``'s transaction: the caller commits (or a failure rolls back
    the decision, the status and the blocklist change together). The finding stays locked until
    then, so take decisions in a short transaction (`record` does).
    """
    if action not in ACTIONS:
        raise DecisionError(f"unknown action {action!r} (expected one of: {', '.join(ACTIONS)})")
    reason = (reason or "").strip()
    if not reason:
        raise DecisionError(f"a reason is required to {action} a finding")
    if len(reason) > MAX_REASON:
        raise DecisionError(f"the reason is too long ({len(reason)} characters; at most {MAX_REASON})")
    user = session.exec(select(User).where(User.username == by)).first()
    if user is None:
        raise DecisionError(f"unknown user {by!r} (create it with: scanner users add {by} --role officer)")
    if user.disabled:
        raise DecisionError(f"user {by!r} is disabled")
    finding = lock_row(session, Finding, finding_id)  # before reading what we check against
    if finding is None:
        raise DecisionError(f"finding {finding_id} not found")

    rule = config.settings.review.two_person_rule
    previous = decisions_for(session, finding_id)
    state = _replay(previous, rule)
    before = state.status
    try:
        after = _step(state, action, by, rule).status
    except DecisionConflict as exc:
        raise DecisionConflict(f"{exc}{_latest(previous)}") from None

    approval = action == "approve"
    decision = Decision(
        finding_id=finding_id,
        seq=(previous[-1].seq if previous else 0) + 1,
        action=action,
        reason=reason,
        by_user=by,
        at=utcnow(),
        status_before=before,
        approves_id=state.confirmation_id if approval else None,
        confirmer=state.confirmed_by if approval else None,
    )
    session.add(decision)
    finding.status = after
    session.add(finding)
    session.flush()
    audit.record(
        session,
        by,
        f"decision.{action}",
        audit.finding_subject(finding_id),
        decision_id=decision.id,
        reason=reason,
        status_before=before,
        status_after=after,
        via=via,
    )
    publish.sync(session, config)
    log.info(
        "decision recorded",
        extra={"finding_id": finding_id, "action": action, "by": by, "status": after, "via": via},
    )
    return decision


def _latest(previous: Sequence[Decision]) -> str:
    """What the officer did not see yet: the newest decision, often one taken a moment ago."""
    if not previous:
        return ""
    last = previous[-1]
    return f" (latest decision: {last.action} by {last.by_user} at {last.at:%Y-%m-%d %H:%M:%S} UTC)"


def _lost_race(exc: BaseException) -> str | None:
    """A decision stored from the same state by a writer that did not lock: check again."""
    if isinstance(exc, IntegrityError):
        text = str(exc.orig)
        if any(name in text for name in ("uq_decision_finding_seq", "decision.seq", "uq_decision_approves")):
            return "a concurrent decision on the same finding"
    return None


# An officer waits for the answer: a database restart (seconds) is ridden out, a longer outage
# answers "database unavailable, nothing changed" instead of keeping the page spinning.
DECISION_OUTAGE_SECONDS = 10.0


def record(
    engine: Engine,
    config: Config,
    finding_id: int,
    action: str,
    reason: str,
    by: str,
    *,
    via: str = "web",
    attempts: int = 5,
) -> tuple[Decision, str]:
    """`decide` in its own committed transaction; returns the decision and the finding's new status.

    A deadlock or serialization failure re-runs the decision against the new state (bounded);
    when every attempt fails that way, DecisionBusy says so and nothing is recorded. A lost
    database connection (a restart) is retried for at most `DECISION_OUTAGE_SECONDS`, then
    `StoreUnavailable`. A commit whose acknowledgement was lost with the connection may have
    landed: the retry then finds this very decision and returns it instead of deciding twice.
    """
    started = utcnow()
    connection_lost = False

    def work(session: Session) -> tuple[Decision, str]:
        landed = _landed_before_retry(session, finding_id, action, reason, by, started) if connection_lost else None
        decision = landed or decide(session, config, finding_id, action, reason, by, via=via)
        finding = session.get(Finding, finding_id)
        return decision, finding.status if finding else "?"

    def attempt() -> tuple[Decision, str]:
        nonlocal connection_lost
        try:
            return retrying(engine, work, attempts=attempts, also=_lost_race, what=f"decision on finding {finding_id}")
        except DBAPIError as exc:
            connection_lost = connection_lost or transient(exc)
            raise

    budget = min(retry_seconds(), DECISION_OUTAGE_SECONDS)
    try:
        return db_retrying(attempt, what=f"recording the decision on finding {finding_id}", seconds=budget)
    except RetriesExhausted as exc:
        raise DecisionBusy(f"could not record the decision, please try again: {exc}") from exc


def _landed_before_retry(
    session: Session, finding_id: int, action: str, reason: str, by: str, since: datetime
) -> Decision | None:
    """The finding's newest decision if it is this one (same officer, action and reason, taken
    since the call began): its commit landed although the connection dropped."""
    previous = decisions_for(session, finding_id)
    if not previous:
        return None
    last = previous[-1]
    at = last.at if last.at.tzinfo else last.at.replace(tzinfo=UTC)
    same = (last.action, last.by_user, last.reason) == (action, by, reason.strip())
    return last if same and at >= since else None


def refresh_status(session: Session, config: Config, finding: Finding) -> str:
    """Rewrite the cached status from the decisions (e.g. after the two-person rule changed)."""
    finding.status = derive_status(decisions_for(session, finding.id or 0), config.settings.review.two_person_rule)
    session.add(finding)
    return finding.status


