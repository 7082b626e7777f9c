"""Audit trail: one `AuditEvent` row per login, decision, bundle download and account change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from scanner.store.models import AuditEvent


def record(session: Session, actor: str, action: str, subject: str = "", **detail: Any) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the caller's transaction)."""
    # The actor can be a name typed at the login page by anyone: bounded to its column (PostgreSQL
    # refused a longer one, and the failed login answered 500 instead of 401).
    event = AuditEvent(actor=actor[:128], action=action, subject=subject[:256], detail=detail)
    session.add(event)
    return event


def events(
    session: Session, subject: str | None = None, actor: str | None = None, limit: int = 500
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    return list(session.exec(query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)))


def finding_subject(finding_id: int) -> str:
    return f"finding:{finding_id}"
