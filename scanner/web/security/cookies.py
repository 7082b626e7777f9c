"""Our cookies: HttpOnly, SameSite=Strict, path /; over HTTPS ``Secure`` and named ``__Host-...``.

The ``__Host-`` prefix makes the browser refuse the cookie unless it is Secure, has path ``/`` and
no Domain, so a sibling subdomain (or a plain-HTTP page) cannot plant or overwrite it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

HOST_PREFIX = "__Host-"


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def name(request: Request, base: str) -> str:
    return HOST_PREFIX + base if secure(request) else base


def read(request: Request, base: str) -> str | None:
    return request.cookies.get(name(request, base))


def write(response: Response, request: Request, base: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name(request, base), value, max_age=max_age, httponly=True, samesite="strict", secure=secure(request), path="/"
    )


def delete(response: Response, request: Request, base: str) -> None:
    response.delete_cookie(name(request, base), path="/", secure=secure(request), httponly=True, samesite="strict")
