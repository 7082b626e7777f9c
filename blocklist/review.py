"""The publication page of the review workspace: what a publication gate holds, and an admin's release.

Officers see the held change (which gate failed, for which entries) and the recent holds; only an
admin gets the release form, and the release route refuses anyone else (403) before it reads the
form. Both go through the workspace's CSRF check like every other form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from blocklist import holds
from blocklist.publish import ReleaseError, current_version, release
from scanner.store.db import session_scope
from scanner.store.models import User
from scanner.web.auth import Officer, csrf_protect, require_admin, require_officer
from scanner.web.rendering import render

router = APIRouter(prefix="/review/publication", dependencies=[Depends(require_officer), Depends(csrf_protect)])


def _page(request: Request, user: User, error: str | None = None, reason: str = "", status_code: int = 200) -> Response:
    with Session(request.app.state.engine) as session:
        context = {
            "held": holds.open_hold(session),
            "recent": holds.recent(session),
            "version": current_version(session),
            "error": error,
            "reason": reason,
            "released": request.query_params.get("released"),
            "is_admin": user.role == "admin",
        }
    return render(request, "publication.html", context, status_code=status_code)


@router.get("")
def publication_page(request: Request, user: Officer) -> Response:
    return _page(request, user)


@router.post("/release")
def release_hold(
    request: Request,
    user: Annotated[User, Depends(require_admin)],
    hold_id: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        with session_scope(request.app.state.engine) as session:
            version = release(session, request.app.state.config, user.username, reason, hold_id).version
    except ReleaseError as exc:
        return _page(request, user, str(exc), reason, status_code=409)
    return RedirectResponse(f"/review/publication?released={version}", status_code=303)
