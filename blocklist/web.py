"""HTTP feeds for banks under /feed/v1/ and TAXII 2.1 under /taxii2/ (from `blocklist.taxii`).

The review app mounts `router`; a feed-only deployment runs `create_app`. Either keeps the feeds'
`FeedContext` (store, signer, rate limiters, caches) on ``app.state.feed``, where `feed_context` finds it.
Every pull by a bank is written to the `Delivery` log, including 304s and 429s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from blocklist.access import FEED_REALM, Context, FeedContext, authorize, record_delivery
from blocklist.artefacts import Artefact, cache_key, cached
from blocklist.disputes import router as disputes_router
from blocklist.formats import BY_ARTEFACT, Format
from blocklist.taxii import router as taxii_router
from blocklist.view import FeedError, iso
from scanner.config import Config
from scanner.store.models import Publication


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def artefact_headers(artefact: Artefact) -> dict[str, str]:
    return {
        "ETag": artefact.etag,
        "X-Feed-Version": str(artefact.version),
        "X-Content-SHA256": artefact.sha256,
        "X-Signature-Ed25519": artefact.signature,
        "Cache-Control": "no-cache",
    }


router = APIRouter(tags=["feed"])
router.include_router(taxii_router)
router.include_router(disputes_router)  # before /feed/v1/{name}, which would take GET /feed/v1/disputes


@router.get("/feed/v1/public-key")
def public_key(ctx: Context) -> Response:
    """The Ed25519 public key that verifies every artefact (no API key needed)."""
    return Response(ctx.signer.public_key_pem, media_type="application/x-pem-file")


@router.get("/feed/v1/versions")
def versions(ctx: Context, request: Request) -> JSONResponse:
    """Publication history: version, time, adds and removals."""
    key = authorize(ctx, request, FEED_REALM)
    with Session(ctx.engine) as session:
        rows = list(session.exec(select(Publication).order_by(col(Publication.version))))
    record_delivery(ctx, key, "versions", rows[-1].version if rows else 0, None, 200)
    return JSONResponse(
        {
            "current": rows[-1].version if rows else 0,
            "versions": [
                {"version": p.version, "created_at": iso(p.created_at), "adds": p.adds, "removals": p.removals}
                for p in rows
            ],
        }
    )


@router.get("/feed/v1/{name}")
async def artefact(
    name: str,
    ctx: Context,
    request: Request,
    # Bounded to the version column (32-bit): a larger `since` was answered 400 but its delivery row
    # could not be stored, and the delivery log lost every row written with it (other banks' too).
    since: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="only changes after this version")] = None,
) -> Response:
    """An artefact (`blocklist.json`, ...) or its detached signature (`blocklist.json.sig`)."""
    signature_only = name.endswith(".sig")
    fmt = BY_ARTEFACT.get(name.removesuffix(".sig"))
    if fmt is None:
        raise HTTPException(404, f"no artefact {name!r} (known: {', '.join(sorted(BY_ARTEFACT))})")
    key = authorize(ctx, request, FEED_REALM)
    try:
        built = await _artefact(ctx, fmt, since)
    except FeedError as exc:
        record_delivery(ctx, key, name, None, since, 400)
        raise HTTPException(400, str(exc)) from None
    headers = artefact_headers(built)
    if etag_matches(request.headers.get("if-none-match"), built.etag):
        record_delivery(ctx, key, name, built.version, since, 304)
        return Response(status_code=304, headers=headers)
    record_delivery(ctx, key, name, built.version, since, 200)
    if signature_only:
        return Response(built.signature + "\n", media_type="text/plain", headers=headers)
    return Response(built.body, media_type=fmt.media_type, headers=headers)


async def _artefact(ctx: FeedContext, fmt: Format, since: int | None) -> Artefact:
    """The artefact at the committed version. Banks poll mostly for 304s: when it is cached, this is
    one small query on the event loop (no thread-pool hop); building a new version, which can take
    seconds, runs in the thread pool so the loop keeps serving."""
    with Session(ctx.engine) as session:
        hit = ctx.cache.peek(cache_key(session, ctx.config, fmt, since))
    if hit is not None:
        return hit  # type: ignore[no-any-return]

    def build() -> Artefact:
        with Session(ctx.engine) as session:
            return cached(ctx.cache, session, ctx.config, fmt, ctx.signer, since)

    return await run_in_threadpool(build)


def create_app(context: FeedContext | None = None) -> FastAPI:
    """A FastAPI app serving only the feeds and TAXII (tests, benches, a feed-only deployment:
    ``uvicorn blocklist.web:create_app --factory`` builds its context from the environment's config)."""
    app = FastAPI(title="pkscan blocklist feeds")
    app.state.feed = context if context is not None else FeedContext.from_config(Config())
    app.include_router(router)
    return app

