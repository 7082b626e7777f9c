"""Admin pages: accounts and the whole audit trail. Officers get 403 here."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session, col, select
from starlette.responses import Response

from scanner.review import audit
from scanner.store.models import User
from scanner.web.auth import csrf_protect, require_admin
from scanner.web.rendering import render

router = APIRouter(prefix="/review/admin", dependencies=[Depends(require_admin), Depends(csrf_protect)])


@router.get("/users")
def users_page(request: Request) -> Response:
    with Session(request.app.state.engine) as session:
        users = session.exec(select(User).order_by(col(User.username))).all()
    return render(request, "admin_users.html", {"users": users})


@router.get("/audit")
def audit_page(request: Request, actor: str = "", limit: int = 500) -> Response:
    with Session(request.app.state.engine) as session:
        events = audit.events(session, actor=actor or None, limit=max(1, min(limit, 5000)))
    return render(request, "admin_audit.html", {"events": events, "actor": actor})
