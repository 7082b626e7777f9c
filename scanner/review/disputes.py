"""Disputes of published blocklist entries, and how officers answer them.

A bank (with its feed API key) or a platform operator (the public form, with a contact address)
disputes an entry that is listed now. Officers answer in their own queue, each dispute with its age
and a target time (``review.dispute_answer_days``):

    open --uphold (one officer)--> upheld                 the entry stays listed
    open --revoke (officer A)--> revoke-proposed --approve (officer B != A)--> revoked

With ``review.two_person_rule`` off a revoke takes effect at once. The revocation is the finding's
``revoke`` decision through `scanner.review.decisions.decide`, in the same transaction as the
dispute's new status, so the removal reaches every feed format (and the audit trail) exactly as
any revocation does; every other open dispute of that finding is closed with it. Opening and
upholding a dispute publish a version without entry changes (`blocklist.publish.announce`) so that
banks polling `?since` or TAXII `added_after` see the entry's new dispute status.

Every step is an audit event under the finding (``dispute.opened``, ``dispute.revoke-proposed``,
``dispute.upheld``, ``dispute.revoked``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from blocklist import publish
from scanner.config import Config
from scanner.review import audit
from scanner.review.decisions import DecisionError, decide, decisions_for
from scanner.store.db import session_scope
from scanner.store.models import (
    AuditEvent,
    BlocklistEntry,
    Decision,
    Dispute,
    Finding,
    Platform,
    User,
    utcnow,
)
from scanner.store.serial import RetriesExhausted, lock_row, named_lock, retrying

OPEN = ("open", "revoke-proposed")
# What a bank or an operator is told: an internal revocation proposal is still an open dispute.
PUBLIC_STATUS = {"open": "open", "revoke-proposed": "open", "upheld": "upheld", "revoked": "revoked"}
MAX_REASON = 4000
MAX_CONTACT = 254
DISPUTE_LOCK = "pkscan disputes"
FORM_REFUSED = "dispute.refused"  # audit action of a public form submission that opened nothing
# A contact address an officer can write to: one @, a dotted domain, no spaces or angle brackets.
_EMAIL = re.compile(
    r"^[^\s@<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)


class DisputeError(ValueError):
    """A dispute or an answer that is refused; str() says why (HTTP 400)."""


class DisputeConflict(DisputeError):
    """The dispute's current state does not allow this answer (HTTP 409)."""


class DisputeNotFound(DisputeError):
    """No such dispute, or no listed entry by that name (HTTP 404)."""


class DisputeLimited(DisputeError):
    """Too many disputes from one address (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def public_status(dispute: Dispute) -> str:
    return PUBLIC_STATUS.get(dispute.status, dispute.status)


def listed_entry(session: Session, reference: str) -> BlocklistEntry | None:
    """The listed entry a requester means: its entry id, or its value (a domain, URL or app id)."""
    reference = reference.strip()
    if not reference:
        return None
    listed = col(BlocklistEntry.removed_at).is_(None)
    entry = session.exec(select(BlocklistEntry).where(BlocklistEntry.entry_id == reference, listed)).first()
    if entry is not None:
        return entry
    candidates = {reference, reference.lower().rstrip(".")}
    query = select(BlocklistEntry).where(col(BlocklistEntry.value).in_(candidates), listed)
    return session.exec(query.order_by(col(BlocklistEntry.id))).first()


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DisputeError("a reason is required")
    if len(reason) > MAX_REASON:
        raise DisputeError(f"the reason is too long ({len(reason)} characters; at most {MAX_REASON})")
    return reason


def _announce(session: Session, note: str) -> int:
    """A feed version carrying a dispute status change."""
    return publish.announce(session, note).version


def _current_version(session: Session) -> int:
    return int(publish.current_version(session))


def form_subject(address: str) -> str:
    return f"dispute-form:{address}"[:256]


def _check_form_budget(session: Session, address: str, limit: int, now: datetime) -> None:
    """The public form's limit: disputes opened *and* submissions refused from ``address`` in the
    last hour, so that nobody can probe which names are listed at line rate."""
    window = now - timedelta(hours=1)
    opened = session.exec(
        select(Dispute.opened_at).where(
            Dispute.source == "operator", Dispute.address == address, col(Dispute.opened_at) > window
        )
    ).all()
    refused = session.exec(
        select(AuditEvent.at).where(
            AuditEvent.action == FORM_REFUSED,
            AuditEvent.subject == form_subject(address),
            col(AuditEvent.at) > window,
        )
    ).all()
    moments = sorted(opened + refused)
    if len(moments) >= limit:
        # the count drops below the limit when the (len - limit + 1)-th oldest leaves the window
        wait = int((moments[len(moments) - limit] + timedelta(hours=1) - now).total_seconds()) + 1
        raise DisputeLimited("too many disputes from this address; try again later", max(wait, 1))


def submit_operator_dispute(
    engine: Engine, config: Config, reference: str, reason: str, contact: str, address: str
) -> Dispute:
    """The public form: `open_dispute` in its own transaction; a refused submission is audited and
    counts against the address's hourly budget."""
    try:
        return retrying(
            engine,
            lambda session: open_dispute(
                session, config, reference, reason, source="operator", requester=contact, address=address
            ),
            what="operator dispute",
        )
    except DisputeLimited:
        raise
    except DisputeError as exc:
        with session_scope(engine) as session:
            audit.record(
                session, f"operator:{contact.strip()}"[:128], FORM_REFUSED, form_subject(address),
                refused=str(exc), entry=reference.strip()[:300],
            )  # fmt: skip
        raise


def open_dispute(
    session: Session,
    config: Config,
    reference: str,
    reason: str,
    *,
    source: str,
    requester: str,
    address: str = "",
    api_key_id: int | None = None,
) -> Dispute:
    """Record a dispute of the listed entry ``reference`` (entry id or value); the caller commits.

    An operator's ``requester`` is a contact address; a bank's is its name. Operators are limited to
    ``review.disputes_per_address_per_hour`` submissions (opened or refused) per client address.
    """
    requester = (requester or "").strip()
    if source not in ("bank", "operator"):
        raise DisputeError(f"unknown dispute source {source!r}")
    named_lock(session, DISPUTE_LOCK)  # the per-address count and the insert are one step
    now = utcnow()
    review = config.settings.review
    if source == "operator":
        _check_form_budget(session, address, review.disputes_per_address_per_hour, now)
        if len(requester) > MAX_CONTACT or not _EMAIL.match(requester):
            raise DisputeError("a contact e-mail address is required, so that an officer can answer")
    reason = _clean_reason(reason)
    entry = listed_entry(session, reference)
    if entry is None:
        raise DisputeNotFound(f"no listed blocklist entry {reference.strip()[:200]!r}")
    dispute = Dispute(
        entry_id=entry.entry_id,
        finding_id=entry.finding_id,
        source=source,
        api_key_id=api_key_id,
        requester=requester[:256],
        address=address[:64],
        reason=reason,
        opened_at=now,
        due_at=now + timedelta(days=review.dispute_answer_days),
    )
    session.add(dispute)
    session.flush()
    dispute.version = _announce(session, f"dispute {dispute.id} opened on {entry.type} {entry.value}")
    session.add(dispute)
    audit.record(
        session,
        f"{source}:{requester}"[:128],
        "dispute.opened",
        audit.finding_subject(entry.finding_id),
        dispute_id=dispute.id,
        entry_id=entry.entry_id,
        entry=f"{entry.type} {entry.value}",
        source=source,
        requester=requester,
        reason=reason,
        address=address,
    )
    return dispute


# ---------------------------------------------------------------- answers


def _officer(session: Session, by: str) -> User:
    user = session.exec(select(User).where(User.username == by)).first()
    if user is None or user.disabled:
        raise DisputeError(f"unknown or disabled user {by!r}")
    return user


def _locked(session: Session, dispute_id: int) -> Dispute:
    dispute = lock_row(session, Dispute, dispute_id)
    if dispute is None:
        raise DisputeNotFound(f"dispute {dispute_id} not found")
    return dispute


def _require_open(dispute: Dispute, action: str) -> None:
    if dispute.status not in OPEN:
        raise DisputeConflict(
            f"cannot {action}: dispute {dispute.id} is already {dispute.status}"
            f"{f' by {dispute.resolved_by}' if dispute.resolved_by else ''}"
        )


def _close(session: Session, dispute: Dispute, status: str, by: str, reason: str, **extra: Any) -> None:
    before = dispute.status
    dispute.status = status
    dispute.resolved_by = by
    dispute.resolved_at = utcnow()
    dispute.resolution_reason = reason
    for name, value in extra.items():
        setattr(dispute, name, value)
    session.add(dispute)
    audit.record(
        session, by, f"dispute.{status}", audit.finding_subject(dispute.finding_id),
        dispute_id=dispute.id, entry_id=dispute.entry_id, reason=reason, status_before=before,
        decision_id=dispute.decision_id,
    )  # fmt: skip


def _uphold(session: Session, config: Config, dispute_id: int, by: str, reason: str) -> Dispute:
    _officer(session, by)
    dispute = _locked(session, dispute_id)
    _require_open(dispute, "uphold")
    version = _announce(session, f"dispute {dispute.id} answered: entry upheld")
    _close(session, dispute, "upheld", by, reason, version=version)
    return dispute


def _revoke(session: Session, config: Config, dispute: Dispute, by: str, reason: str) -> Dispute:
    """The finding's revoke decision and every open dispute of the finding closed as revoked."""
    finding = session.get(Finding, dispute.finding_id)
    decision: Decision | None
    if finding is not None and finding.status == "revoked":
        # Revoked on the finding page meanwhile: the dispute is answered by that decision.
        decision = next(
            (d for d in reversed(decisions_for(session, finding.id or 0)) if d.action == "revoke"), None
        )
    else:
        text = f"dispute {dispute.id} ({dispute.source} {dispute.requester}): {reason}"
        try:
            decision = decide(session, config, dispute.finding_id, "revoke", text, by, via="dispute")
        except DecisionError as exc:
            raise DisputeConflict(f"cannot revoke: {exc}") from None
    version = _current_version(session)  # the version that carries the removal
    others = session.exec(
        select(Dispute).where(
            Dispute.finding_id == dispute.finding_id, col(Dispute.status).in_(OPEN), Dispute.id != dispute.id
        )
    ).all()
    for row in [dispute, *others]:
        _close(
            session,
            row,
            "revoked",
            by,
            reason,
            decision_id=decision.id if decision else None,
            version=version,
        )
    return dispute


def _propose_revoke(session: Session, config: Config, dispute_id: int, by: str, reason: str) -> Dispute:
    _officer(session, by)
    dispute = _locked(session, dispute_id)
    _require_open(dispute, "propose a revocation")
    if not config.settings.review.two_person_rule:
        return _revoke(session, config, dispute, by, reason)
    if dispute.status == "revoke-proposed":
        raise DisputeConflict(
            f"cannot propose a revocation: {dispute.proposed_by} already proposed one; another officer approves it"
        )
    dispute.status = "revoke-proposed"
    dispute.proposed_by, dispute.proposed_at, dispute.proposal_reason = by, utcnow(), reason
    session.add(dispute)
    audit.record(
        session, by, "dispute.revoke-proposed", audit.finding_subject(dispute.finding_id),
        dispute_id=dispute.id, entry_id=dispute.entry_id, reason=reason,
    )  # fmt: skip
    return dispute


def _approve_revoke(session: Session, config: Config, dispute_id: int, by: str, reason: str) -> Dispute:
    _officer(session, by)
    dispute = _locked(session, dispute_id)
    _require_open(dispute, "approve the revocation")
    if dispute.status != "revoke-proposed":
        raise DisputeConflict(
            f"cannot approve: no revocation of dispute {dispute_id} is proposed (status {dispute.status})"
        )
    if by == dispute.proposed_by:
        raise DisputeConflict(
            f"cannot approve: {by} proposed this revocation; the two-person rule needs a different officer"
        )
    return _revoke(session, config, dispute, by, reason)


ANSWERS = {"uphold": _uphold, "revoke": _propose_revoke, "approve-revoke": _approve_revoke}


def answer(engine: Engine, config: Config, dispute_id: int, action: str, reason: str, by: str) -> Dispute:
    """Run one officer's answer (``uphold``, ``revoke``, ``approve-revoke``) in its own transaction."""
    step = ANSWERS.get(action)
    if step is None:
        raise DisputeError(f"unknown answer {action!r} (expected one of: {', '.join(ANSWERS)})")
    reason = _clean_reason(reason)
    try:
        return retrying(
            engine,
            lambda session: step(session, config, dispute_id, by, reason),
            what=f"dispute {dispute_id}",
        )
    except RetriesExhausted as exc:
        raise DisputeConflict(f"could not record the answer, please try again: {exc}") from exc


def allowed_answers(dispute: Dispute, by: str, two_person_rule: bool) -> list[str]:
    """The buttons ``by`` sees for ``dispute``."""
    if dispute.status == "open":
        return ["uphold", "revoke"]
    if dispute.status == "revoke-proposed":
        return ["uphold"] + (["approve-revoke"] if by != dispute.proposed_by or not two_person_rule else [])
    return []


# ---------------------------------------------------------------- the queue


@dataclass
class QueueRow:
    dispute: Dispute
    entry_type: str
    entry_value: str
    platform: str
    finding_status: str

    def age(self, now: datetime) -> timedelta:
        return (self.dispute.resolved_at or now) - self.dispute.opened_at

    def overdue(self, now: datetime) -> bool:
        end = self.dispute.resolved_at or now
        return end > self.dispute.due_at


def _rows() -> Any:
    """Disputes with their entry, platform and finding status (the QueueRow fields)."""
    return (
        select(Dispute, BlocklistEntry.type, BlocklistEntry.value, Platform.key, Finding.status)
        .join(BlocklistEntry, col(BlocklistEntry.entry_id) == col(Dispute.entry_id))
        .join(Finding, col(Finding.id) == col(Dispute.finding_id))
        .join(Platform, col(Platform.id) == col(Finding.platform_id))
    )


def queue(session: Session, state: str = "open", limit: int = 500) -> list[QueueRow]:
    """Disputes, the oldest open first (``state``: open, closed or all)."""
    query = _rows()
    if state == "open":
        query = query.where(col(Dispute.status).in_(OPEN)).order_by(col(Dispute.due_at), col(Dispute.id))
    elif state == "closed":
        query = query.where(col(Dispute.status).not_in(OPEN)).order_by(
            col(Dispute.resolved_at).desc(), col(Dispute.id)
        )
    else:
        query = query.order_by(col(Dispute.opened_at).desc(), col(Dispute.id))
    return [QueueRow(*row) for row in session.exec(query.limit(limit))]


def for_finding(session: Session, finding_id: int) -> list[QueueRow]:
    """A finding's disputes, newest first (its page lists them)."""
    query = _rows().where(Dispute.finding_id == finding_id).order_by(col(Dispute.id).desc())
    return [QueueRow(*row) for row in session.exec(query)]


def dispute_row(session: Session, dispute_id: int) -> QueueRow | None:
    row = session.exec(_rows().where(Dispute.id == dispute_id)).first()
    return QueueRow(*row) if row else None


def open_counts(session: Session, now: datetime) -> tuple[int, int]:
    """(open disputes, those past their target time to answer)."""
    unanswered = col(Dispute.status).in_(OPEN)
    total = session.exec(select(func.count()).select_from(Dispute).where(unanswered)).one()
    late = session.exec(
        select(func.count()).select_from(Dispute).where(unanswered, col(Dispute.due_at) < now)
    ).one()
    return int(total), int(late)
