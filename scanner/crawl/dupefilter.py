"""The crawl's duplicate filters keep fingerprints signed with the deployment's key, so that no entry
someone else wrote makes the crawl skip a page.

A duplicate filter answers "already seen" for a request whose fingerprint it holds, and the crawl
then drops that request without a word. Scrapy's fingerprint is a SHA-1 of the canonical URL (plus
method and body; scrapy-redis' a SHA-1 of the same in JSON): anyone can compute it for any URL. So
whoever could write the shared crawl's set in Redis (``<prefix>:dupefilter``: a second tenant, a
neighbour on the network) or a paused job's ``requests.seen`` (a restored backup, a copied data dir)
could make the crawl skip the pages of their choice, and another crawl's entries (another target,
another deployment, a copy of one) suppressed pages of this one.

Threat model: the writer can read and write the filter's storage but does not hold the deployment's
key (`state_key`: ``SCANNER_STATE_KEY``; else, for a crawl shared through Redis, one derived from
``SCANNER_DATABASE_URL`` when it holds the database password every worker shares; else a random key
kept in ``<data_dir>/crawl-state.key``, mode 0600). Every fingerprint the filters store or look up is
a MAC (keyed BLAKE2b, 16 bytes) of the request's fingerprint under a key derived from the deployment's
key and the filter's scope (the Redis key prefix: crawl id, spider and target; or the job's name):
`Signer`. A fingerprint
forged without the key, or copied from another scope or deployment, matches none the crawl looks
up: at worst a page is fetched again, never skipped. What stays possible for such a writer: deleting
the filter's entries (pages fetched again), and replaying entries this same crawl scope wrote in an
earlier run, if they read them then (the pages that run fetched would be skipped; keep Redis private).
Workers whose keys differ (on several machines without ``SCANNER_STATE_KEY`` or a database password,
``SCANNER_STATE_KEY`` set on some only, database URLs spelt differently) each fetch what the others
did; the shared crawl says so in its summary (`scanner.ops.scaleout`).

A paused job's ``requests.seen`` is read through before Scrapy opens it (`seen_problem`, called by
`scanner.crawl.jobs.unreadable_queue`): a file larger than `MAX_SEEN_BYTES`, cut short, or holding
records that are not this version's signed fingerprints (an older version's, anyone's) makes the
whole paused state move aside like an unreadable queue: the crawl restarts from its seeds replaying
what the paused run captured, and the run's summary names the file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from scanner.config import Config

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

STATE_KEY_ENV = "SCANNER_STATE_KEY"
KEY_FILE = "crawl-state.key"
KEY_BYTES = 32
SIGNED_BYTES = 16  # 128 bits: no collision among any crawl's requests, half a SHA-1 hex in Redis
SEEN_FILE = "requests.seen"
# Scrapy's record: a big-endian 2-byte length, then the fingerprint.
_RECORD = 2 + SIGNED_BYTES
_PREFIX = SIGNED_BYTES.to_bytes(2, "big")
# 3.7 million fingerprints (a request each), far beyond any target's page budget; a larger file is
# no state of ours, and Scrapy would read it whole into memory.
MAX_SEEN_BYTES = 64 << 20


def state_key(data_dir: Path, env: dict[str, str] | None = None, *, shared: bool = False) -> bytes:
    """The deployment's key for signing crawl state: ``SCANNER_STATE_KEY`` (any string). Unset, for a
    crawl ``shared`` through Redis whose ``SCANNER_DATABASE_URL`` holds a password: derived from that URL
    (the one secret every worker of a shared crawl already holds: they share the database). Else the
    random key in ``<data_dir>/crawl-state.key``, made on first use (one not of `KEY_BYTES` bytes is
    replaced, kept beside it): workers on other machines then hold other keys, which the shared crawl
    says (`scanner.ops.scaleout`)."""
    env = os.environ if env is None else env
    if value := env.get(STATE_KEY_ENV, ""):
        return hashlib.sha256(b"pkscan state key\0" + value.encode()).digest()
    database = env.get("SCANNER_DATABASE_URL", "")
    if shared and urlsplit(database).password:
        return hashlib.sha256(b"pkscan state key from the database URL\0" + database.encode()).digest()
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        key: bytes | None = path.read_bytes()
    except FileNotFoundError:
        key = None
    if key is not None and len(key) == KEY_BYTES:
        return key
    if key is not None:
        aside = path.with_name(f"{KEY_FILE}.unreadable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        os.replace(path, aside)
        log.error(
            "%s holds %d bytes, not a key of %d: replaced (kept in %s)", path, len(key), KEY_BYTES, aside
        )
    # Written whole under a private name, then linked into place: another process of the deployment
    # starting at the same moment sees no key file or a complete one, never an empty one it would
    # replace with a key of its own.
    key = secrets.token_bytes(KEY_BYTES)
    draft = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    try:
        os.link(draft, path)
    except FileExistsError:  # another process of the deployment made it first: use theirs
        return state_key(data_dir, env)
    finally:
        draft.unlink()
    return key


class Signer:
    """A MAC of fingerprints under the deployment's key, for one scope (a crawl's Redis prefix, a job):
    keyed BLAKE2b (a MAC by design, as HMAC-SHA256 is, in one pass: 2.2 µs a fingerprint against 6.5 µs
    for HMAC-SHA256, both on the same loaded host), `SIGNED_BYTES` long."""

    def __init__(self, key: bytes, scope: str):
        scoped = b"pkscan dupefilter\0" + scope.encode("utf-8", "replace")
        self._key = hashlib.blake2b(scoped, key=key, digest_size=32).digest()

    def sign(self, fingerprint: bytes) -> bytes:
        return hashlib.blake2b(fingerprint, key=self._key, digest_size=SIGNED_BYTES).digest()

    def check_value(self) -> str:
        """A value only this key and scope give: workers of a shared crawl compare theirs."""
        return self.sign(b"\0key check").hex()


class _SignedFingerprinter:
    """The crawl's request fingerprinter (`scanner.crawl.vantage`), each fingerprint signed."""

    def __init__(self, fingerprinter: Any, signer: Signer):
        self.fingerprinter, self.signer = fingerprinter, signer

    def fingerprint(self, request: Request) -> bytes:
        return self.signer.sign(self.fingerprinter.fingerprint(request))


class JobDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter (``requests.seen`` in the job directory) storing signed fingerprints,
    scoped to the job: an entry written without the key, or by another job, never matches."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDupeFilter:
        path = job_dir(crawler.settings)
        scope = f"job:{Path(path).name}" if path else "memory"
        # The spider's config is the crawl's (scanner.crawl.context, which this module cannot import:
        # it imports scanner.crawl.jobs, which imports this); one from the environment is the same.
        config = getattr(getattr(crawler, "spider", None), "config", None) or Config()
        signer = Signer(state_key(config.data_dir), scope)
        return cls(
            path,
            crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=_SignedFingerprinter(crawler.request_fingerprinter, signer),
        )


def seen_problem(directory: Path) -> str | None:
    """Why job ``directory``'s ``requests.seen`` cannot be read as this version's signed fingerprints
    (naming the file and where), else None. Read a megabyte at a time, never whole."""
    path = Path(directory) / SEEN_FILE
    try:
        size = path.stat().st_size
        if size > MAX_SEEN_BYTES:
            return f"{path}: {size} bytes, more than the {MAX_SEEN_BYTES} a crawl's fingerprints take"
        with path.open("rb") as seen:
            offset = 0
            while block := seen.read(_RECORD * 58254):  # ~1 MB of whole records
                whole = len(block) // _RECORD
                # Every length prefix is 00 10 (two strided counts in C), else find the first that is not.
                if block[0::_RECORD].count(0) == block[1::_RECORD].count(SIGNED_BYTES) == whole:
                    at = whole * _RECORD
                else:
                    prefixes = range(0, len(block), _RECORD)
                    at = next((i for i in prefixes if block[i : i + 2] != _PREFIX), whole * _RECORD)
                if at < len(block):
                    where = f"record {(offset + at) // _RECORD + 1} (byte {offset + at})"
                    if len(block) - at >= 2 and block[at : at + 2] != _PREFIX:
                        length = int.from_bytes(block[at : at + 2], "big")
                        return f"{path}: {where} is a {length}-byte fingerprint, not a signed one of {SIGNED_BYTES}"
                    return f"{path}: cut short in {where}"
                offset += len(block)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None
