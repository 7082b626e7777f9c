"""Request dependencies: who is logged in, which role a route needs, and the CSRF check.

Every review route depends on `require_officer` or `require_admin` (set on its router, so a new
route cannot forget it); tests walk the app's routes to prove it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from scanner.store.models import User
from scanner.web.security import csrf
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
    return request.app.state.sessions.read(request.cookies.get(COOKIE_NAME))


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
    if not request.app.state.csrf.valid(request.cookies.get(csrf.COOKIE_NAME), token):
        raise CsrfFailed()


Officer = Annotated[User, Depends(require_officer)]
