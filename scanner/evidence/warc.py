"""WARC 1.1 writer for evidence: one gzip member per record, one file per process at a time.

Every HTTP exchange becomes two records, written back to back as one byte range:
a ``response`` record (HTTP status line, headers and the body exactly as received) followed by a
``request`` record whose ``WARC-Concurrent-To`` names the response. A `Capture` row points at that
range (``warc_offset``, ``warc_length``), so an exchange can be re-read or copied into a bundle
without parsing the rest of the file.

Choices made for evidence rather than for archiving:
- Digests are SHA-256 (``sha256:<base32>``, which ``warcio check`` verifies), the same hash as the
  ``Capture.body_sha256`` column (hex there).
- Each exchange is compressed in memory and written with one ``write()`` on an unbuffered file, so a
  SIGKILL loses at most the exchange being written.
- A record is wholly in the file at the offset returned, or not at all: if a write fails (ENOSPC,
  EFBIG, EIO) the file is truncated back to where the record began (or, if even that fails, left for
  a new file) and `EvidenceWriteError` is raised; the writer's offset only advances after a complete
  write. `sync()` makes what was written durable (fdatasync, plus the directory entry of a new file);
  the recorder calls it before a chain row points at the records. Files are fsync'ed when rotated.
- The body is the payload as it came off the wire (after HTTP de-chunking, before content decoding),
  so ``Content-Encoding`` still describes it. Because the transfer coding is already removed, a
  ``Transfer-Encoding`` header is kept under ``X-Pkscan-Original-Transfer-Encoding``: otherwise WARC
  readers would try to de-chunk a body that is not chunked.
- File names (``pkscan-<utc>-<host>-<pid>-<n>.warc.gz``, created with O_EXCL) never collide between
  processes or machines; a writer that finds itself in a forked child starts its own file.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import logging
import os
import re
import socket
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from scanner.filemodes import open_private, private_dir

log = logging.getLogger("scanner.evidence")

WARC_SUBDIR = "warc"
# Host name in file names: processes on several machines may share one evidence folder.
_HOST = re.sub(r"[^A-Za-z0-9.-]+", "-", socket.gethostname())[:64] or "host"
# Level 1: a crawl compresses every exchange on its capture thread. On 11 KB real-world pages level 6
# cost ~3.5x the CPU (~220 vs ~60 µs a page) for ~15% smaller records (0.18 vs 0.21 of the bytes);
# level 9 (warcio's default) ~2x level 6 again for ~2% less. Readers need not know the level.
GZIP_LEVEL = 1
HOP_BY_HOP_RENAMES = {"transfer-encoding": "X-Pkscan-Original-Transfer-Encoding"}
# Never written to evidence: credentials of our own proxy, not part of the exchange with the site.
DROPPED_REQUEST_HEADERS = {"proxy-authorization"}


RENDERED_DOM_TYPE = "text/html; charset=utf-8"
SCREENSHOT_TYPE = "image/png"
# Target URI of a screenshot record: the page's URL behind the prefix Webrecorder tools use for
# page views, so replay tools do not take the PNG for the page itself.
SCREENSHOT_URI_PREFIX = "urn:view:"


def sha256_b32(digest: bytes) -> str:
    return "sha256:" + base64.b32encode(digest).decode("ascii")


# The payload digest of an empty body (every GET's request record): computed once.
_EMPTY_PAYLOAD_DIGEST = sha256_b32(hashlib.sha256(b"").digest())


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class EvidenceWriteError(RuntimeError):
    """Evidence could not be written: the exchange is NOT recorded (no capture row points at it).

    Deliberately not an OSError, so that code handling network errors cannot take it for a failed
    fetch and carry on; ``cause`` is the OSError the file system raised (``errno`` repeats its number).
    """

    def __init__(self, message: str, *, warc_file: str, cause: OSError):
        super().__init__(message)
        self.warc_file = warc_file
        self.cause = cause
        self.errno = cause.errno


def _os_error(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{name + ' ' if name else ''}{exc.strerror or exc}"


@dataclass(frozen=True)
class WrittenExchange:
    """Where an exchange's records went. ``warc_file`` is relative to the data dir."""

    warc_file: str
    offset: int
    length: int
    record_id: str
    request_record_id: str
    body_sha256: str
    warc_sha256: str  # of the stored (compressed) bytes, so any altered byte is detected

    def row(self) -> dict[str, Any]:
        """The `Capture` columns that say where the records are and what they hash to."""
        return {
            "warc_file": self.warc_file, "warc_offset": self.offset, "warc_length": self.length,
            "record_id": self.record_id, "request_record_id": self.request_record_id,
            "body_sha256": self.body_sha256, "warc_sha256": self.warc_sha256,
        }  # fmt: skip


class _Sha256RecordWriter(WARCWriter):
    """warcio's record builder with SHA-256 digests and an uncompressed in-memory target."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def _clean(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # A CR or LF inside a name or value would forge extra header lines in the record.
    return [
        (k.replace("\r", " ").replace("\n", " "), v.replace("\r", " ").replace("\n", " ")) for k, v in headers
    ]


def _version() -> str:
    try:
        return metadata.version("pkscan")
    except metadata.PackageNotFoundError:
        return "dev"


def _warc_date(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("WARC dates must be timezone-aware (UTC)")
    return datetime_to_iso_date(value.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def _gzip_member(data: bytes) -> bytes:
    return zlib.compress(data, GZIP_LEVEL, zlib.MAX_WBITS | 16)  # one call: see _http_record


_builder = _Sha256RecordWriter(BytesIO(), gzip=False, warc_version="1.1")


def encode_record(record: object) -> bytes:
    """One WARC record as one gzip member (so offsets index records)."""
    out = BytesIO()
    _builder._write_warc_record(out, record)
    return _gzip_member(out.getvalue())


def _wire_block(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    """An HTTP head written as received: latin-1 round-trips the wire bytes (warcio would %-encode
    non-ASCII values and fail on non-ASCII names, altering the evidence). Characters beyond latin-1
    (only possible from a caller, not from the wire) are written as UTF-8."""
    text = first_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _http_record(headers: list[tuple[str, str]], kind: str, head: bytes, payload: bytes) -> bytes:
    """One ``request``/``response`` record as one gzip member, bytes for bytes what warcio's builder
    writes for it (same header order, SHA-256 block digest), without its per-record objects and
    streams: an exchange is recorded per page, and that builder cost more than the compression.
    ``headers`` are the WARC headers up to WARC-Target-URI (and the payload digest); the block digest,
    Content-Type and Content-Length follow.

    The block is hashed with one call and the record compressed with one: the crawl records from its
    capture thread, and every call into hashlib or zlib lets the reactor's thread take the interpreter
    lock, which this thread then waits to get back (up to the 5 ms switch interval)."""
    block = head + payload
    headers = [*headers, ("WARC-Block-Digest", sha256_b32(hashlib.sha256(block).digest())),
               ("Content-Type", f"application/http; msgtype={kind}"), ("Content-Length", str(len(block)))]  # fmt: skip
    text = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return _gzip_member(text.encode("utf-8") + block + b"\r\n\r\n")


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warcinfo_member(filename: str, info: dict[str, str]) -> bytes:
    fields = {
        "software": f"pkscan/{_version()} (warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "hostname": socket.gethostname(),
        **info,
    }
    return encode_record(_builder.create_warcinfo_record(filename, fields))


class WarcWriter:
    """Appends exchanges to ``<data_dir>/warc/pkscan-<utc>-<host>-<pid>-<n>.warc.gz``, rotating at ``max_bytes``."""

    def __init__(
        self,
        data_dir: Path | str,
        max_bytes: int,
        *,
        prefix: str = "pkscan",
        info: dict[str, str] | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / WARC_SUBDIR
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.info = dict(info or {})
        self._fd: int | None = None
        self._pid = os.getpid()
        self._serial = 0
        self._size = 0  # bytes of whole records in the current file: where the next record goes
        self._synced = 0  # of which made durable by sync()
        self._dir_synced = True  # the current file's directory entry is durable
        self._name = ""

    # -- files

    @property
    def current_file(self) -> str | None:
        """The file being written, relative to the data dir (None before the first record)."""
        return f"{WARC_SUBDIR}/{self._name}" if self._fd is not None else None

    def _open_next(self) -> None:
        self._close_file()
        try:
            private_dir(self.directory)  # evidence is readable by the service account only
        except OSError as exc:
            raise EvidenceWriteError(
                f"evidence not recorded: cannot create the evidence folder {WARC_SUBDIR}/: {_os_error(exc)}",
                warc_file=WARC_SUBDIR,
                cause=exc,
            ) from exc
        self._pid = os.getpid()
        while True:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
            name = f"{self.prefix}-{stamp}-{_HOST}-{self._pid}-{self._serial:05d}.warc.gz"
            try:
                fd = open_private(self.directory / name, os.O_WRONLY | os.O_EXCL | os.O_APPEND)
            except FileExistsError:
                continue
            except OSError as exc:
                raise EvidenceWriteError(
                    f"evidence not recorded: cannot create {WARC_SUBDIR}/{name}: {_os_error(exc)}",
                    warc_file=f"{WARC_SUBDIR}/{name}",
                    cause=exc,
                ) from exc
            break
        self._fd, self._name, self._size, self._synced, self._dir_synced = fd, name, 0, 0, False
        try:
            self._append(warcinfo_member(name, {"pid": str(self._pid), **self.info}))
        except EvidenceWriteError:
            # A file holding no record is no evidence: remove it rather than leave an empty WARC behind.
            self._abandon()
            (self.directory / name).unlink(missing_ok=True)
            raise

    def _close_file(self) -> None:
        if self._fd is not None:
            try:
                self.sync()
            except EvidenceWriteError as exc:
                # Records a capture row points at were synced before the row committed (the recorder
                # syncs first); what failed here is at most records no row points at.
                log.warning("closing a WARC file: %s", exc)
            finally:
                self._abandon()

    def _abandon(self) -> None:
        """Stop writing to the current file (the next record starts a new one)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass  # nothing more will be written to it; a failing close changes nothing recorded

    def close(self) -> None:
        self._close_file()

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync(self) -> None:
        """Make every record written so far durable; raises `EvidenceWriteError` if the disk refuses.

        Called before a capture row that points at the records commits. After a failed sync the page
        cache no longer says what is on disk, so the unsynced records are cut off and the file is
        abandoned: a record that is not known to be durable is never recorded.
        """
        if self._fd is None or (self._synced == self._size and self._dir_synced):
            return
        try:
            getattr(os, "fdatasync", os.fsync)(self._fd)
            if not self._dir_synced:
                # A new file's name must survive a crash too, or the durable records are unreachable.
                dir_fd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
                self._dir_synced = True
        except OSError as exc:
            where = self.current_file or ""
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._synced)
            self._abandon()
            raise EvidenceWriteError(
                f"evidence not recorded: flushing {where} to disk failed: {_os_error(exc)}; "
                f"records after offset {self._synced} are not recorded and the next record starts a new file",
                warc_file=where,
                cause=exc,
            ) from exc
        self._synced = self._size

    # -- records

    def _append(self, data: bytes) -> int:
        """Write ``data`` at the end of the file, wholly or not at all; returns its offset."""
        assert self._fd is not None
        offset = self._size
        where = f"{WARC_SUBDIR}/{self._name}"
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            # A short write followed by ENOSPC leaves part of the record in the file: cut it off, so the
            # file ends with whole records and the next record lands at the offset we will record.
            try:
                os.ftruncate(self._fd, offset)
                kept = f"the file was truncated back to {offset} bytes"
            except OSError as undo:
                self._abandon()
                kept = f"truncating it failed too ({_os_error(undo)}), so the next record starts a new file"
            raise EvidenceWriteError(
                f"evidence not recorded: writing {len(data)} bytes to {where} at offset {offset} failed: "
                f"{_os_error(exc)}; {kept}",
                warc_file=where,
                cause=exc,
            ) from exc
        self._size += len(data)
        return offset

    def _ensure_file(self) -> None:
        if self._fd is None or self._pid != os.getpid() or self._size >= self.max_bytes:
            self._open_next()

    def write_metadata(self, uri: str, payload: bytes, content_type: str, date: datetime) -> WrittenExchange:
        """Write one ``metadata`` record about ``uri`` (pkscan's own statements, e.g. evidence marks)."""
        self._ensure_file()
        record = _builder.create_warc_record(
            uri,
            "metadata",
            payload=BytesIO(payload),
            length=len(payload),
            warc_content_type=content_type,
            warc_headers_dict={"WARC-Date": _warc_date(date)},
        )
        data = encode_record(record)
        offset = self._append(data)
        return WrittenExchange(
            warc_file=f"{WARC_SUBDIR}/{self._name}",
            offset=offset,
            length=len(data),
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            request_record_id="",
            body_sha256=hashlib.sha256(payload).hexdigest(),
            warc_sha256=hashlib.sha256(data).hexdigest(),
        )

    def write_exchange(
        self,
        *,
        method: str,
        url: str,
        request_headers: list[tuple[str, str]],
        request_body: bytes | None,
        status: int,
        reason: str | None,
        response_headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime,
        remote_ip: str | None = None,
        protocol: str = "HTTP/1.1",
        info: dict[str, str] | None = None,
    ) -> WrittenExchange:
        """Write the response and request records of one exchange; returns where they are.

        ``info`` adds ``WARC-Pkscan-*`` headers to both records (the vantage point it was fetched from)."""
        self._ensure_file()
        warc_date = _warc_date(fetched_at)
        body_digest = hashlib.sha256(body).digest()
        fields = {"WARC-Date": warc_date}
        if remote_ip:
            fields["WARC-IP-Address"] = remote_ip
        fields.update(_clean(list((info or {}).items())))
        common = list(fields.items())

        resp_headers = [(HOP_BY_HOP_RENAMES.get(k.lower(), k), v) for k, v in _clean(response_headers)]
        status_line = f"{status} {reason or reason_phrase(status)}".rstrip()
        record_id = _record_id()
        response = _http_record(
            [*common, ("WARC-Payload-Digest", sha256_b32(body_digest)), ("WARC-Type", "response"),
             ("WARC-Record-ID", record_id), ("WARC-Target-URI", url)],
            "response", _wire_block(f"{protocol} {status_line}", resp_headers), body,
        )  # fmt: skip

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [(k, v) for k, v in _clean(request_headers) if k.lower() not in DROPPED_REQUEST_HEADERS]
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        req_body = request_body or b""
        request_id = _record_id()
        request = _http_record(
            [*common, ("WARC-Concurrent-To", record_id), ("WARC-Type", "request"), ("WARC-Record-ID", request_id),
             ("WARC-Target-URI", url),
             ("WARC-Payload-Digest", sha256_b32(hashlib.sha256(req_body).digest()) if req_body else _EMPTY_PAYLOAD_DIGEST)],
            "request", _wire_block(f"{method} {target} {protocol}", req_headers), req_body,
        )  # fmt: skip

        data = response + request
        offset = self._append(data)
        return WrittenExchange(
            warc_file=f"{WARC_SUBDIR}/{self._name}",
            offset=offset,
            length=len(data),
            record_id=record_id,
            request_record_id=request_id,
            body_sha256=body_digest.hex(),
            warc_sha256=hashlib.sha256(data).hexdigest(),
        )

    def write_render(
        self,
        *,
        url: str,
        refers_to: str,
        refers_to_date: datetime,
        dom: bytes,
        screenshot: bytes,
        rendered_at: datetime,
        info: dict[str, str] | None = None,
    ) -> WrittenExchange:
        """Write a page rendered in Chromium: its DOM and its screenshot, as one byte range.

        - a ``conversion`` record (``text/html``, the serialised DOM after scripts ran) whose
          ``WARC-Refers-To`` is ``refers_to``, the response record it was rendered from;
        - a ``resource`` record (``image/png``, the full-page screenshot, target ``urn:view:<url>``)
          ``WARC-Refers-To`` the same response and ``WARC-Concurrent-To`` the conversion record.
        ``record_id`` is the conversion's, ``request_record_id`` the screenshot's; ``info`` adds
        ``WARC-Pkscan-*`` style headers to both (how the page was rendered).
        """
        self._ensure_file()
        date = _warc_date(rendered_at)
        common = {
            "WARC-Date": date,
            "WARC-Refers-To": refers_to,
            "WARC-Refers-To-Target-URI": url,
            "WARC-Refers-To-Date": _warc_date(refers_to_date),
            **(info or {}),
        }
        dom_digest = hashlib.sha256(dom).digest()
        conversion = _builder.create_warc_record(
            url,
            "conversion",
            payload=BytesIO(dom),
            length=len(dom),
            warc_content_type=RENDERED_DOM_TYPE,
            warc_headers_dict={**common, "WARC-Payload-Digest": sha256_b32(dom_digest)},
        )
        conversion_id = conversion.rec_headers.get_header("WARC-Record-ID")
        shot = _builder.create_warc_record(
            SCREENSHOT_URI_PREFIX + url,
            "resource",
            payload=BytesIO(screenshot),
            length=len(screenshot),
            warc_content_type=SCREENSHOT_TYPE,
            warc_headers_dict={
                **common,
                "WARC-Concurrent-To": conversion_id,
                "WARC-Payload-Digest": sha256_b32(hashlib.sha256(screenshot).digest()),
            },
        )
        data = encode_record(conversion) + encode_record(shot)
        offset = self._append(data)
        return WrittenExchange(
            warc_file=f"{WARC_SUBDIR}/{self._name}",
            offset=offset,
            length=len(data),
            record_id=conversion_id,
            request_record_id=shot.rec_headers.get_header("WARC-Record-ID"),
            body_sha256=dom_digest.hex(),
            warc_sha256=hashlib.sha256(data).hexdigest(),
        )
