"""Shared by the feeds and TAXII: the feed context (store, signer, limiter, cache), API-key
authentication, the per-key rate limit and the delivery log."""

from __future__ import annotations

import atexit
import base64
import binascii
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from blocklist import keys
from blocklist.artefacts import Cache
from blocklist.sign import Signer, load_signer
from scanner.config import Config
from scanner.ratelimit import RateLimiter
from scanner.store.db import open_store
from scanner.store.models import ApiKey, Delivery, utcnow

log = logging.getLogger(__name__)
KEY_CACHE_SECONDS = 5.0

FEED_REALM = 'Bearer realm="pkscan-feed"'
FAILED_KEY = "wrong-api-key"


class DeliveryLog:
    """Writes `Delivery` rows from one background thread, in batches.

    Writing a row inside each request cost more than serving a cached artefact, and concurrent
    SQLite writers back off in millisecond sleeps. Rows reach the database within `interval`
    seconds; `flush()` waits for everything queued so far (tests, shutdown).
    """

    def __init__(self, engine: Engine, interval: float = 0.2):
        self.engine = engine
        self.interval = interval
        self._pending: list[dict[str, Any]] = []
        self._written = 0
        self._queued = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        _logs.add(self)

    def add(self, **row: Any) -> None:
        """Queue one `Delivery` row (its column values); no wake-up, the writer runs per interval."""
        with self._cond:
            self._pending.append(row)
            self._queued += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="feed-delivery-log", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 30.0) -> None:
        with self._cond:
            target = self._queued
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._written >= target, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait(self.interval)
                batch, self._pending = self._pending, []
            if batch:
                self._write(batch)
            with self._cond:
                self._written += len(batch)
                self._cond.notify_all()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        last_used: dict[int, Any] = {row["api_key_id"]: row["at"] for row in batch}
        try:
            with Session(self.engine) as session:
                session.execute(insert(Delivery), batch)
                for key_id, at in last_used.items():
                    session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=at))
                session.commit()
        except Exception:  # the log must not take the feed down; the failure is logged
            log.exception("could not write %d feed delivery rows", len(batch))


_logs: weakref.WeakSet[DeliveryLog] = weakref.WeakSet()


def flush_deliveries() -> None:
    """Wait until every queued delivery row of this process is in the database."""
    for delivery_log in list(_logs):
        delivery_log.flush()


atexit.register(flush_deliveries)


@dataclass
class FeedContext:
    config: Config
    engine: Engine
    signer: Signer
    limiter: RateLimiter
    deliveries: DeliveryLog
    failures: RateLimiter  # wrong API keys per client address
    cache: Cache = field(default_factory=Cache)
    _keys: dict[str, tuple[ApiKey, float]] = field(default_factory=dict)

    def api_key(self, raw: str | None) -> ApiKey | None:
        """The active key for ``raw``; a hit is remembered for KEY_CACHE_SECONDS (so a revocation
        takes effect within that time) to spare a database read per request."""
        if not raw:
            return None
        digest = keys.hash_key(raw)
        now = time.monotonic()
        hit = self._keys.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        with Session(self.engine, expire_on_commit=False) as session:
            key = keys.authenticate(session, raw)
        if key is not None:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (key, now + KEY_CACHE_SECONDS)
        return key

    @classmethod
    def from_config(cls, config: Config, engine: Engine | None = None) -> FeedContext:
        engine = engine if engine is not None else open_store(config)
        return cls(
            config=config,
            engine=engine,
            signer=load_signer(config.data_dir),
            limiter=RateLimiter(config.settings.feed.requests_per_minute),
            deliveries=DeliveryLog(engine),
            failures=RateLimiter(config.settings.feed.failed_key_attempts_per_minute),
        )


async def feed_context(request: Request) -> FeedContext:
    """The feeds' context: built with the app that serves them (`blocklist.web.create_app`,
    `scanner.web.create_app`) and kept on its state, as the review pages keep their store. Async so
    that FastAPI resolves it on the event loop, without a thread-pool hop per request."""
    context: FeedContext = request.app.state.feed
    return context


Context = Annotated[FeedContext, Depends(feed_context)]


def presented_key(request: Request, allow_basic: bool = False) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if allow_basic and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def authorize(ctx: FeedContext, request: Request, challenge: str, allow_basic: bool = False) -> ApiKey:
    """The caller's API key, or 401; then the per-key rate limit, or 429 (logged).

    An address that sent `feed.failed_key_attempts_per_minute` wrong keys gets 429 with Retry-After
    (whatever key it sends) until the minute has passed: keys cannot be guessed at line rate.
    """
    address = request.client.host if request.client else "unknown"
    wait = ctx.failures.retry_after(FAILED_KEY, address)
    if wait:
        log.warning("feed request refused: too many wrong API keys", extra={"address": address, "path": request.url.path})
        raise HTTPException(429, "too many requests with a wrong API key; try again later", {"Retry-After": str(wait)})
    raw = presented_key(request, allow_basic)
    key = ctx.api_key(raw)
    if key is None:
        if raw:  # a guess; a request without any key is not counted
            ctx.failures.allow(FAILED_KEY, address)
        raise HTTPException(401, "a valid API key is required (Authorization: Bearer KEY)", {"WWW-Authenticate": challenge})
    if not ctx.limiter.allow(key.prefix, "feed"):
        record_delivery(ctx, key, request.url.path, None, None, 429)
        raise HTTPException(
            429,
            f"rate limit of {ctx.config.settings.feed.requests_per_minute} requests per minute exceeded",
            {"Retry-After": "60"},
        )
    return key


def record_delivery(
    ctx: FeedContext, key: ApiKey, artefact: str, version: int | None, since: int | None, status: int
) -> None:
    ctx.deliveries.add(
        api_key_id=key.id or 0, bank=key.bank, artefact=artefact[:128], version=version, since=since,
        status_code=status, at=utcnow(),
    )
