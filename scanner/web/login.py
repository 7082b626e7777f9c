"""Login and logout. Failed and successful logins are audited; attempts are rate limited
(`scanner.web.security.attempts`); a login issues a new session and a new CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session, select
from starlette.responses import Response

from scanner.review import audit
from scanner.store.db import session_scope
from scanner.store.models import User
from scanner.web.auth import Officer, csrf_protect, current_user, session_data
from scanner.web.rendering import render
from scanner.web.security import attempts, cookies, csrf
from scanner.web.security.passwords import verify_password
from scanner.web.security.sessions import COOKIE_NAME

router = APIRouter(prefix="/review", dependencies=[Depends(csrf_protect)])


def _safe_next(target: str | None) -> str:
    # Only our own review pages: never an absolute or protocol-relative URL (open redirect).
    if target and target.startswith("/review/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/review/"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    username = username.strip()
    target = _safe_next(next)
    address = _client(request)
    engine = request.app.state.engine
    context = {"next": target, "username": username}
    review = request.app.state.config.settings.review
    # Recorded before the password is checked, so parallel guesses cannot slip past the count.
    attempt = attempts.begin(
        engine, username, address, review.login_attempts_per_minute, review.login_attempts_per_address_per_minute
    )
    if not attempt.allowed:
        with session_scope(engine) as session:
            audit.record(session, username or "?", "login.rate_limited", f"user:{username}", address=address)
        message = "Too many failed logins. Wait a minute and try again."
        return render(
            request, "login.html", {**context, "error": message}, status_code=429,
            headers={"Retry-After": str(attempt.retry_after)},
        )  # fmt: skip
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first() if username else None
        ok = verify_password(user.password_hash if user else None, password) and user is not None
        if ok and user is not None and user.disabled:
            ok = False
        audit.record(session, username or "?", "login" if ok else "login.failed", f"user:{username}", address=address)
    if not ok or user is None:
        return render(request, "login.html", {**context, "error": "Invalid username or password."}, status_code=401)
    attempts.succeeded(engine, attempt)
    session_cookie, _data = request.app.state.sessions.issue(user.id or 0, address)
    response = RedirectResponse(target, status_code=303)
    cookies.write(response, request, COOKIE_NAME, session_cookie, max_age=int(request.app.state.sessions.max_age))
    # A new pre-login CSRF cookie too: nothing from before the login stays usable.
    cookies.write(response, request, csrf.COOKIE_NAME, csrf.CsrfTokens.new_cookie())
    return response


@router.post("/logout")
def logout(request: Request, user: Officer) -> Response:
    data = session_data(request)
    if data is not None:
        request.app.state.sessions.revoke(data)
    with Session(request.app.state.engine) as session:
        audit.record(session, user.username, "logout", f"user:{user.username}", address=_client(request))
        session.commit()
    response = RedirectResponse("/review/login", status_code=303)
    cookies.delete(response, request, COOKIE_NAME)
    return response
