"""Request dependencies: who is logged in, which role a route needs, and the CSRF check.

Every review route depends on `require_officer` or `require_admin` (set on its router, so a new
route cannot forget it); tests walk the app's routes to prove it.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from scanner.store.models import User
from scanner.web.security import cookies, csrf
from scanner.web.security.roles import ROLE_RANK
from scanner.web.security.sessions import COOKIE_NAME, SessionData


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login page."""


class RoleRequired(Exception):
    def __init__(self, role: str, user: User):
        super().__init__(f"this page needs the {role} role")
        self.role = role
        self.user = user


class CsrfFailed(Exception):
    """A state-changing request without a valid CSRF token."""


def session_data(request: Request) -> SessionData | None:
    """The request's valid session, read once per request."""
    if not hasattr(request.state, "session_data"):
        request.state.session_data = request.app.state.sessions.read(cookies.read(request, COOKIE_NAME))
    data: SessionData | None = request.state.session_data
    return data


def csrf_token(request: Request) -> str:
    """The CSRF token this request's forms carry: bound to the session, else to the pre-login cookie."""
    data = session_data(request)
    cookie = getattr(request.state, "csrf_cookie", None) or cookies.read(request, csrf.COOKIE_NAME)
    token: str = request.app.state.csrf.token_for(data.sid if data else None, cookie)
    return token


def current_user(request: Request) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    data = session_data(request)
    if data is None:
        return None
    with Session(request.app.state.engine) as session:
        user = session.get(User, data.user_id)
    if user is None or user.disabled or user.role not in ROLE_RANK:
        return None
    request.state.user = user
    return user


def _require(request: Request, role: str) -> User:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    if ROLE_RANK[user.role] < ROLE_RANK[role]:
        raise RoleRequired(role, user)
    return user


def require_officer(request: Request) -> User:
    return _require(request, "officer")


def require_admin(request: Request) -> User:
    return _require(request, "admin")


async def csrf_protect(request: Request) -> None:
    if request.method in csrf.SAFE_METHODS:
        return
    token = request.headers.get(csrf.HEADER)
    if token is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(csrf.FORM_FIELD)
        token = value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not expected or not token or not hmac.compare_digest(expected, token):
        raise CsrfFailed()


Officer = Annotated[User, Depends(require_officer)]
