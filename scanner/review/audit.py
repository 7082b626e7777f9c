"""Audit trail: one `AuditEvent` row per login, decision, bundle download and account change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from scanner.store.models import AuditEvent


def record(session: Session, actor: str, action: str, subject: str = "", **detail: Any) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the caller's transaction)."""
    event = AuditEvent(actor=actor, action=action, subject=subject[:256], detail=detail)
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
