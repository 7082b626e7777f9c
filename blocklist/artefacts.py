"""Build signed artefacts from the store, cached per (database, artefact, version, since).

A publication never changes once made, so an artefact at a version is built once per process and
then served from memory; only `rails.json` also depends on the newest poll snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from blocklist.formats import FORMATS, Format
from blocklist.publish import current_version
from blocklist.sign import Signer, sha256
from blocklist.view import FeedError, load_view, rails_marker
from scanner.config import Config


@dataclass(frozen=True)
class Artefact:
    format: Format
    version: int
    since: int | None
    body: bytes
    sha256: str
    signature: str  # base64 Ed25519 over body

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'


class Cache:
    """A small LRU; builds of one key run once even when requests arrive together."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        with self._build_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value


def resolve(name: str) -> Format:
    """A format by export name (`csv`) or artefact file name (`blocklist.csv`)."""
    for fmt in FORMATS.values():
        if name in (fmt.name, fmt.artefact):
            return fmt
    known = ", ".join(sorted(FORMATS))
    raise FeedError(f"unknown format {name!r} (expected one of: {known})")


def build(session: Session, config: Config, fmt: Format, signer: Signer, since: int | None = None) -> Artefact:
    """The artefact now, uncached."""
    view = load_view(session, config, since=since if fmt.incremental else None, rails=fmt.needs_rails)
    if since is not None and not fmt.incremental and since > view.version:
        raise FeedError(f"since={since} is newer than the current feed version {view.version}")
    body = fmt.write(view)
    return Artefact(fmt, view.version, view.since, body, sha256(body), signer.sign(body))


def cached(
    cache: Cache, session: Session, config: Config, fmt: Format, signer: Signer, since: int | None = None
) -> Artefact:
    version = current_version(session)
    if since is not None and (since < 0 or since > version):
        raise FeedError(
            f"since={since} is newer than the current feed version {version}"
            if since > version
            else f"since={since}: a version is a non-negative integer"
        )
    effective_since = since if fmt.incremental else None
    marker = rails_marker(session) if fmt.needs_rails else 0
    key = (config.database_url, fmt.name, version, effective_since, marker)
    artefact: Artefact = cache.get(key, lambda: build(session, config, fmt, signer, effective_since))
    return artefact
