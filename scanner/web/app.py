"""The web service: review UI under /review/, /healthz, and the routers other packages provide.

`create_app(config)` builds everything from the config; ``scanner serve`` runs it under uvicorn.
It also serves the routers of the other packages: bank feeds, TAXII and disputes (``blocklist.web``),
the publication page (``blocklist.review``) and ``/metrics`` (``scanner.ops.metrics``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import literal, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import Response

from blocklist import review as feed_review
from blocklist import web as feed_web
from blocklist.access import FeedContext
from scanner.config import Config
from scanner.ops import metrics
from scanner.store.db import StoreUnavailable, open_store
from scanner.web.auth import CsrfFailed, LoginRequired, RoleRequired
from scanner.web.rendering import make_templates, render
from scanner.web.security import cookies, csrf
from scanner.web.security.csp import PAGE_CSP
from scanner.web.security.secret import load_or_create_secret
from scanner.web.security.sessions import SessionStore

log = logging.getLogger(__name__)

ROUTERS = (feed_web.router, feed_review.router, metrics.router)

# Pages with forms: they get the pre-login CSRF cookie and are never cached. /dispute is the
# public form where a platform operator disputes a blocklist entry.
FORM_PATHS = ("/review", "/dispute")


def _security_headers(request: Request, response: Response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.url.path.startswith(FORM_PATHS):
        headers.setdefault("Cache-Control", "no-store")


def _relative_location(request: Request, response: Response) -> None:
    """Redirects name a path, never this request's Host (Starlette's trailing-slash redirect is absolute)."""
    location = response.headers.get("location")
    if location:
        parts = urlsplit(location)
        if parts.netloc and parts.netloc == request.url.netloc:
            response.headers["location"] = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def create_app(config: Config) -> FastAPI:
    from scanner.web import admin, dashboard, disputes, login, pages

    engine = open_store(config)
    secret = load_or_create_secret(config.data_dir)
    review = config.settings.review

    app = FastAPI(title="pkscan", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.engine = engine
    app.state.feed = FeedContext.from_config(config, engine)
    app.state.sessions = SessionStore(engine, secret, review.session_hours * 3600)
    app.state.csrf = csrf.CsrfTokens(secret)
    app.state.templates = make_templates()

    @app.middleware("http")
    async def _cookies_and_headers(request: Request, call_next: Any) -> Response:
        new_cookie = None
        if request.url.path.startswith(FORM_PATHS) and not cookies.read(request, csrf.COOKIE_NAME):
            new_cookie = csrf.CsrfTokens.new_cookie()
            request.state.csrf_cookie = new_cookie
        response: Response = await call_next(request)
        if new_cookie and not any(csrf.COOKIE_NAME in c for c in response.headers.getlist("set-cookie")):
            cookies.write(response, request, csrf.COOKIE_NAME, new_cookie)
        _relative_location(request, response)
        _security_headers(request, response)
        return response

    # Outermost: a request naming any other host is refused before anything can reflect it.
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=list(config.settings.web.allowed_hosts), www_redirect=False
    )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    @app.exception_handler(StoreUnavailable)
    async def _database_down(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        headers = {"Retry-After": "30"}
        if not request.url.path.startswith("/review"):
            return JSONResponse({"detail": "the database is unavailable; try again later"}, 503, headers)
        message = "The database cannot be reached. Nothing was changed; try again in a minute."
        return request.app.state.templates.TemplateResponse(
            request, "error.html",
            {"title": "Service unavailable", "message": message, "user": None, "csrf_token": "", "csrf_field": ""},
            status_code=503, headers=headers,
        )  # fmt: skip

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/review/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(RoleRequired)
    async def _forbidden(request: Request, exc: RoleRequired) -> Response:
        return render(request, "error.html", {"title": "Not allowed", "message": str(exc)}, status_code=403)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        message = "The form has expired or did not come from this site (missing or invalid CSRF token). Reload the page and try again."
        return render(request, "error.html", {"title": "Request refused", "message": message}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Officers get a page; everything else (feeds, TAXII, metrics) keeps FastAPI's JSON errors.
        if not request.url.path.startswith("/review/"):
            return await http_exception_handler(request, exc)
        title = {404: "Not found", 400: "Bad request"}.get(exc.status_code, "Error")
        return render(request, "error.html", {"title": title, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with Session(engine) as session:
                session.exec(select(literal(1))).one()  # type: ignore[call-overload]
        except Exception as exc:
            return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/review/", status_code=303)

    app.mount("/static", StaticFiles(packages=[("scanner.web", "static")]), name="static")
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(disputes.router)
    app.include_router(disputes.public)
    app.include_router(admin.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
