"""Disputes in the web service: the officers' queue and answers under /review/disputes, and the
public form under /dispute where a platform operator disputes a listed entry.

The public form needs no login but is CSRF-protected (the token is bound to a cookie set on its
first GET) and limited to ``review.disputes_per_address_per_hour`` disputes per client address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from scanner.review import audit
from scanner.review.disputes import (
    DisputeConflict,
    DisputeError,
    DisputeLimited,
    DisputeNotFound,
    allowed_answers,
    answer,
    dispute_row,
    public_status,
    queue,
    submit_operator_dispute,
)
from scanner.store.models import utcnow
from scanner.web.auth import Officer, csrf_protect, require_officer
from scanner.web.rendering import render

router = APIRouter(prefix="/review", dependencies=[Depends(require_officer), Depends(csrf_protect)])
public = APIRouter(dependencies=[Depends(csrf_protect)])

STATES = ("open", "closed", "all")
MAX_ID = 2**31 - 1


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------- officers


@router.get("/disputes")
def disputes_page(request: Request, state: str = "open") -> Response:
    if state not in STATES:
        raise HTTPException(400, f"state: expected one of {', '.join(STATES)}")
    with Session(request.app.state.engine) as session:
        rows = queue(session, state)
    now = utcnow()
    return render(
        request,
        "disputes.html",
        {
            "rows": rows,
            "state": state,
            "states": STATES,
            "now": now,
            "overdue": sum(1 for row in rows if row.dispute.resolved_at is None and row.overdue(now)),
            "answer_days": request.app.state.config.settings.review.dispute_answer_days,
        },
    )


def _dispute_page(request: Request, dispute_id: int, user: Officer, error: str | None = None, reason: str = "",
                  status_code: int = 200) -> Response:  # fmt: skip
    if not 1 <= dispute_id <= MAX_ID:
        raise HTTPException(404, f"dispute {dispute_id} not found")
    with Session(request.app.state.engine) as session:
        row = dispute_row(session, dispute_id)
        if row is None:
            raise HTTPException(404, f"dispute {dispute_id} not found")
        trail = [
            event
            for event in audit.events(session, audit.finding_subject(row.dispute.finding_id))
            if event.detail.get("dispute_id") == dispute_id
        ]
    rule = request.app.state.config.settings.review.two_person_rule
    return render(
        request,
        "dispute.html",
        {
            "row": row,
            "dispute": row.dispute,
            "public_status": public_status(row.dispute),
            "now": utcnow(),
            "allowed": allowed_answers(row.dispute, user.username, rule),
            "trail": trail,
            "error": error,
            "reason": reason,
        },
        status_code=status_code,
    )


@router.get("/disputes/{dispute_id}")
def dispute_page(request: Request, dispute_id: int, user: Officer) -> Response:
    return _dispute_page(request, dispute_id, user)


@router.post("/disputes/{dispute_id}/answer")
def answer_dispute(
    request: Request,
    dispute_id: int,
    user: Officer,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    if not 1 <= dispute_id <= MAX_ID:
        raise HTTPException(404, f"dispute {dispute_id} not found")
    try:
        answer(request.app.state.engine, request.app.state.config, dispute_id, action, reason, user.username)
    except DisputeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except DisputeError as exc:
        status_code = 409 if isinstance(exc, DisputeConflict) else 400
        return _dispute_page(request, dispute_id, user, str(exc), reason, status_code)
    return RedirectResponse(f"/review/disputes/{dispute_id}?done={action}", status_code=303)


# ---------------------------------------------------------------- platform operators (public)


def _form(
    request: Request, status_code: int = 200, headers: dict[str, str] | None = None, **context: object
) -> Response:
    values = {"entry": "", "contact": "", "reason": "", "error": None, "created": None, **context}
    return render(request, "dispute_form.html", values, status_code=status_code, headers=headers)


@public.get("/dispute")
def dispute_form(request: Request) -> Response:
    return _form(request)


@public.post("/dispute")
def submit_dispute(
    request: Request,
    entry: Annotated[str, Form(max_length=2048)] = "",
    contact: Annotated[str, Form(max_length=512)] = "",
    reason: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    filled = {"entry": entry, "contact": contact, "reason": reason}
    try:
        dispute = submit_operator_dispute(
            request.app.state.engine, request.app.state.config, entry, reason, contact, _client(request)
        )
    except DisputeLimited as exc:
        return _form(request, 429, {"Retry-After": str(exc.retry_after)}, **filled, error=str(exc))
    except DisputeNotFound as exc:
        return _form(request, 404, **filled, error=str(exc))
    except DisputeError as exc:
        return _form(request, 400, **filled, error=str(exc))
    return _form(request, 201, created=dispute)
