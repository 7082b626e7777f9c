"""Build signed artefacts from the store, cached per (database, artefact, version, since).

A publication never changes once made, so an artefact at a version is built once per process and
then served from memory; only `rails.json` also depends on the newest poll snapshot. The version in
the cache key and every row in the artefact are read from one snapshot of committed data, so an
artefact (and its ETag, the digest of its bytes) is exactly the feed at its version.
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
from scanner.store.serial import read_snapshot


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


def _weight(value: Any) -> int:
    """Approximate bytes held: artefact bodies, or ~1 kB per TAXII object."""
    if isinstance(value, Artefact):
        return len(value.body) + 256
    if isinstance(value, list):
        return 1024 * len(value) + 256
    return 256


class Cache:
    """A small LRU bounded by entries and by bytes (full 100k-entry artefacts are tens of MB);
    builds run one at a time, so simultaneous requests for a new version build it once."""

    def __init__(self, size: int = 64, max_bytes: int = 512 * 1024 * 1024):
        self.size = size
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def _lookup(self, key: Any) -> tuple[bool, Any]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key][0]
        return False, None

    def peek(self, key: Any) -> Any:
        """The cached value, or None (never builds)."""
        return self._lookup(key)[1]

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        found, value = self._lookup(key)
        if found:
            return value
        with self._build_lock:
            found, value = self._lookup(key)
            if found:
                return value
            value = build()
            weight = _weight(value)
            with self._lock:
                self._items[key] = (value, weight)
                self._bytes += weight
                while len(self._items) > 1 and (len(self._items) > self.size or self._bytes > self.max_bytes):
                    _, (_, dropped) = self._items.popitem(last=False)
                    self._bytes -= dropped
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
    key = cache_key(session, config, fmt, since)
    artefact: Artefact = cache.get(key, lambda: build(session, config, fmt, signer, key[3]))
    return artefact


def cache_key(session: Session, config: Config, fmt: Format, since: int | None) -> tuple[Any, ...]:
    """What identifies the artefact to serve now: the committed version (one small query), the
    effective ``since``, and for `rails.json` the newest poll snapshot. Raises `FeedError` for a bad ``since``."""
    read_snapshot(session)
    version = current_version(session)
    if since is not None and (since < 0 or since > version):
        raise FeedError(
            f"since={since} is newer than the current feed version {version}"
            if since > version
            else f"since={since}: a version is a non-negative integer"
        )
    effective_since = since if fmt.incremental else None
    marker = rails_marker(session) if fmt.needs_rails else 0
    return (config.database_url, fmt.name, version, effective_since, marker)
