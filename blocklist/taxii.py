"""TAXII 2.1 (read-only) under /taxii2/: one API root with one collection of the blocklist's STIX objects.

Objects carry `date_added` = the time of the publication that last changed them, so `added_after`
gives a bank exactly what changed since its last poll. Pagination uses an opaque `next` cursor
(date_added, id), which stays valid when a new publication lands between two pages.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from blocklist.access import Context, FeedContext, authorize, record_delivery
from blocklist.formats import stix
from blocklist.publish import current_version
from blocklist.view import load_view
from scanner.store.serial import read_snapshot

MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
COLLECTION_ALIAS = "pkscan-blocklist"
COLLECTION_ID = str(uuid.uuid5(stix.NAMESPACE, "taxii-collection:" + COLLECTION_ALIAS))
MAX_PAGE = 5000
CHALLENGE = 'Basic realm="pkscan TAXII", Bearer realm="pkscan TAXII"'


class TaxiiResponse(JSONResponse):
    media_type = MEDIA_TYPE


def taxii_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(status: int, title: str, description: str = "", headers: dict[str, str] | None = None) -> TaxiiResponse:
    body = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    return TaxiiResponse(body, status_code=status, headers=headers)


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if not accept:
        return
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if not any(r in ("*/*", "application/*", "application/taxii+json", "application/json") for r in ranges):
        raise HTTPException(406, f"this server answers {MEDIA_TYPE}, not {accept!r}")


def _guard(ctx: FeedContext, request: Request) -> Any:
    _check_accept(request)
    return authorize(ctx, request, CHALLENGE, allow_basic=True)


def _collection(request: Request) -> dict[str, Any]:
    return {
        "id": COLLECTION_ID,
        "title": COLLECTION_ALIAS,
        "description": "Officer-approved blocklist of unlicensed crypto platforms serving Pakistan",
        "alias": COLLECTION_ALIAS,
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA_TYPE],
    }


def _objects(ctx: FeedContext) -> tuple[int, list[tuple[datetime, str, dict[str, Any]]]]:
    """Every object of the collection at the current version, sorted by (date_added, id)."""
    with Session(ctx.engine) as session:
        read_snapshot(session)  # the cache key's version and the objects from the same commit
        version = current_version(session)

        def build() -> list[tuple[datetime, str, dict[str, Any]]]:
            view = load_view(session, ctx.config)
            items = [(o.date_added, o.object["id"], o.object) for o in stix.objects(view)]
            return sorted(items, key=lambda item: (item[0], item[1]))

        return version, ctx.cache.get((ctx.config.database_url, "taxii", version), build)


def _parse_time(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name}: not a timestamp ({raw!r}; expected e.g. 2026-01-31T12:00:00.000Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _encode_cursor(added: datetime, object_id: str) -> str:
    return base64.urlsafe_b64encode(f"{taxii_time(added)}|{object_id}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, object_id = raw.split("|", 1)
        added = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if added.tzinfo is None:  # compared with aware times: a naive one ("2026-12-07") raised, a 500
            raise ValueError("no time zone")
        return added, object_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(400, f"next: not a cursor this server issued ({token!r})") from None


def _select(
    ctx: FeedContext,
    request: Request,
    collection_id: str,
    added_after: str | None,
    limit: int | None,
    next_token: str | None,
    object_id: str | None = None,
) -> tuple[int, list[tuple[datetime, str, dict[str, Any]]], bool]:
    if collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        raise HTTPException(404, f"no collection {collection_id!r}")
    version, items = _objects(ctx)
    after = _parse_time("added_after", added_after)
    ids = set(filter(None, (request.query_params.get("match[id]") or "").split(",")))
    types = set(filter(None, (request.query_params.get("match[type]") or "").split(",")))
    if object_id:
        ids = {object_id}
    cursor = _decode_cursor(next_token) if next_token else None
    selected = [
        item
        for item in items
        if (after is None or item[0] > after)
        and (not ids or item[1] in ids)
        and (not types or item[2]["type"] in types)
        and (cursor is None or (item[0], item[1]) > cursor)
    ]
    page_size = min(limit or MAX_PAGE, MAX_PAGE)
    return version, selected[:page_size], len(selected) > page_size


def _page_headers(page: list[tuple[datetime, str, dict[str, Any]]]) -> dict[str, str]:
    if not page:
        return {}
    return {"X-TAXII-Date-Added-First": taxii_time(page[0][0]), "X-TAXII-Date-Added-Last": taxii_time(page[-1][0])}


def _envelope(page: list[tuple[datetime, str, dict[str, Any]]], more: bool, objects: list[Any]) -> TaxiiResponse:
    """A TAXII envelope with `more`/`next` and the date-added headers of the page."""
    envelope: dict[str, Any] = {"more": more}
    if more:
        envelope["next"] = _encode_cursor(page[-1][0], page[-1][1])
    if objects:
        envelope["objects"] = objects
    return TaxiiResponse(envelope, headers=_page_headers(page))


router = APIRouter(prefix="/taxii2", tags=["taxii"], default_response_class=TaxiiResponse)
API_ROOT_PATH = "/taxii2/api/"


def api_root_url(ctx: FeedContext) -> str:
    """From `web.public_url`, else relative (TAXII 2.1 allows both); never from the Host header."""
    public = ctx.config.settings.web.public_url
    return str(public).rstrip("/") + API_ROOT_PATH if public else API_ROOT_PATH
Limit = Annotated[int | None, Query(ge=1, description="page size")]


@router.get("/")
def discovery(ctx: Context, request: Request) -> TaxiiResponse:
    _guard(ctx, request)
    root = api_root_url(ctx)
    return TaxiiResponse(
        {
            "title": ctx.config.settings.feed.publisher_name,
            "description": "TAXII 2.1 server of the pkscan blocklist",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/api/", name="api_root")
def api_root(ctx: Context, request: Request) -> TaxiiResponse:
    _guard(ctx, request)
    return TaxiiResponse(
        {
            "title": "pkscan blocklist",
            "description": "Officer-approved blocklist of unlicensed crypto platforms serving Pakistan",
            "versions": [MEDIA_TYPE],
            "max_content_length": 0,
        }
    )


@router.get("/api/collections/")
def collections(ctx: Context, request: Request) -> TaxiiResponse:
    _guard(ctx, request)
    return TaxiiResponse({"collections": [_collection(request)]})


@router.get("/api/collections/{collection_id}/")
def collection(collection_id: str, ctx: Context, request: Request) -> TaxiiResponse:
    _guard(ctx, request)
    if collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        return _error(404, "collection not found", f"no collection {collection_id!r}")
    return TaxiiResponse(_collection(request))


@router.get("/api/collections/{collection_id}/objects/")
def get_objects(
    collection_id: str,
    ctx: Context,
    request: Request,
    added_after: str | None = None,
    limit: Limit = None,
    next: str | None = None,  # noqa: A002 (the TAXII parameter name)
) -> TaxiiResponse:
    key = _guard(ctx, request)
    version, page, more = _select(ctx, request, collection_id, added_after, limit, next)
    record_delivery(ctx, key, "taxii:objects", version, None, 200)
    return _envelope(page, more, [item[2] for item in page])


@router.get("/api/collections/{collection_id}/objects/{object_id}/")
def get_object(
    collection_id: str,
    object_id: str,
    ctx: Context,
    request: Request,
    limit: Limit = None,
    next: str | None = None,  # noqa: A002
) -> TaxiiResponse:
    key = _guard(ctx, request)
    version, page, more = _select(ctx, request, collection_id, None, limit, next, object_id=object_id)
    if not page:
        return _error(404, "object not found", f"no object {object_id!r} in the collection")
    record_delivery(ctx, key, "taxii:object", version, None, 200)
    return _envelope(page, more, [item[2] for item in page])


@router.get("/api/collections/{collection_id}/manifest/")
def manifest(
    collection_id: str,
    ctx: Context,
    request: Request,
    added_after: str | None = None,
    limit: Limit = None,
    next: str | None = None,  # noqa: A002
) -> TaxiiResponse:
    key = _guard(ctx, request)
    version, page, more = _select(ctx, request, collection_id, added_after, limit, next)
    record_delivery(ctx, key, "taxii:manifest", version, None, 200)
    records = [
        {
            "id": obj["id"],
            "date_added": taxii_time(added),
            "version": obj.get("modified", obj.get("created")),
            "media_type": STIX_MEDIA_TYPE,
        }
        for added, _, obj in page
    ]
    return _envelope(page, more, records)
