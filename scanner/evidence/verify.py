"""Verify the evidence log and re-read or copy the WARC records a capture points at.

`verify(engine, data_dir)` walks every capture in chain order and checks, stopping at the first
problem:
  1. ``seq`` is gapless (1, 2, 3, ...) and ``prev_chain_hash`` is the previous row's ``chain_hash``;
  2. ``chain_hash`` recomputes from the row's fields (a changed row breaks here);
  3. the stored WARC bytes hash to ``warc_sha256`` (any altered byte, even in gzip framing);
  4. the records parse, their WARC digests pass, the response record has the row's record id, URL and
     body SHA-256/length, and the request record is ``WARC-Concurrent-To`` the response.
It reads captures in batches and keeps one file handle per WARC file, so memory stays flat.

`read_exchange` returns what a capture recorded (status, headers, body), for the review UI and for
replaying a capture when a crawl resumes. `copy_records` copies captures' records byte for byte into a
new WARC file (evidence bundles): the copied bytes keep their digests, so the bundle can be checked
against the chained ``warc_sha256`` values.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from warcio.archiveiterator import ArchiveIterator

from scanner.evidence import chain
from scanner.evidence.warc import warcinfo_member
from scanner.store.models import Capture

BATCH = 1000


@dataclass(frozen=True)
class Problem:
    seq: int
    url: str
    warc_file: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return (
            f"capture seq {self.seq} ({self.url}) in {self.warc_file} at offset {self.offset}: {self.reason}"
        )


@dataclass
class VerifyReport:
    checked: int = 0
    problem: Problem | None = None
    tip: str = chain.GENESIS  # chain hash of the last capture checked

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class Exchange:
    """One capture's records, read back from its WARC file."""

    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes  # as received: still content-encoded if the server compressed it
    request_line: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    warc_headers: dict[str, str] = field(default_factory=dict)


class _Files:
    """Open WARC files, by path relative to the data dir."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.handles: dict[str, BinaryIO] = {}

    def read(self, relative: str, offset: int, length: int) -> bytes:
        handle = self.handles.get(relative)
        if handle is None:
            handle = open(self.data_dir / relative, "rb")  # noqa: SIM115 - closed in close()
            self.handles[relative] = handle
        handle.seek(offset)
        return handle.read(length)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()


def _captures(engine: Engine) -> Iterator[Capture]:
    last = -1
    with Session(engine) as session:
        while True:
            batch = list(
                session.exec(
                    select(Capture).where(Capture.seq > last).order_by(col(Capture.seq)).limit(BATCH)
                )
            )
            if not batch:
                return
            yield from batch
            last = batch[-1].seq
            session.expunge_all()


def _parse(data: bytes) -> list[tuple[dict[str, str], object, bytes, list[str]]]:
    """(WARC headers, HTTP headers, raw payload, digest problems) per record in ``data``."""
    records = []
    for record in ArchiveIterator(BytesIO(data), check_digests=True):
        payload = record.raw_stream.read()
        problems = list(record.digest_checker.problems) if record.digest_checker.passed is False else []
        records.append((dict(record.rec_headers.headers), record.http_headers, payload, problems))
    return records


def check_records(capture: Capture, data: bytes) -> str | None:
    """Why the stored bytes of ``capture`` do not match its row, or None if they do."""
    if len(data) != capture.warc_length:
        return f"WARC file truncated: {len(data)} of {capture.warc_length} bytes present"
    if capture.warc_sha256 and hashlib.sha256(data).hexdigest() != capture.warc_sha256:
        reason = "stored WARC bytes do not match the recorded SHA-256"
        try:
            records = _parse(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the finding we report
            return f"{reason} (records unreadable: {type(exc).__name__}: {_quoted(exc)})"
        for warc_headers, _http, _payload, problems in records:
            if problems:
                return f"{reason} ({warc_headers.get('WARC-Type')} record: {'; '.join(problems)})"
        return reason
    try:
        records = _parse(data)
    except Exception as exc:  # noqa: BLE001
        return f"WARC records unreadable: {type(exc).__name__}: {_quoted(exc)}"
    by_type = {
        headers.get("WARC-Type"): (headers, payload, problems) for headers, _h, payload, problems in records
    }
    if "response" not in by_type:
        return "no response record at the recorded offset"
    headers, payload, problems = by_type["response"]
    if problems:
        return "response record " + "; ".join(problems)
    if headers.get("WARC-Record-ID") != capture.record_id:
        return f"response record id {headers.get('WARC-Record-ID')} is not the recorded {capture.record_id}"
    if headers.get("WARC-Target-URI") != capture.url:
        return f"response record is for {headers.get('WARC-Target-URI')}, not {capture.url}"
    body_sha256 = hashlib.sha256(payload).hexdigest()
    if body_sha256 != capture.body_sha256 or len(payload) != capture.body_length:
        return f"body SHA-256 {body_sha256} ({len(payload)} bytes) is not the recorded {capture.body_sha256}"
    if capture.request_record_id:
        if "request" not in by_type:
            return "request record missing"
        req_headers, _payload, req_problems = by_type["request"]
        if req_problems:
            return "request record " + "; ".join(req_problems)
        if req_headers.get("WARC-Record-ID") != capture.request_record_id:
            return f"request record id {req_headers.get('WARC-Record-ID')} is not the recorded {capture.request_record_id}"
        if req_headers.get("WARC-Concurrent-To") != capture.record_id:
            return "request record is not WARC-Concurrent-To its response"
    return None


def verify(engine: Engine, data_dir: Path | str) -> VerifyReport:
    """Check the whole evidence log; ``report.problem`` is the first bad record, if any."""
    report = VerifyReport()
    files = _Files(Path(data_dir))
    expected_seq, prev = 1, chain.GENESIS
    try:
        for capture in _captures(engine):
            where = dict(
                seq=capture.seq, url=capture.url, warc_file=capture.warc_file, offset=capture.warc_offset
            )
            if capture.seq != expected_seq:
                report.problem = Problem(
                    **where, reason=f"chain gap: expected seq {expected_seq}, found {capture.seq}"
                )
                break
            if capture.prev_chain_hash != prev:
                report.problem = Problem(
                    **where, reason="prev_chain_hash does not match the previous capture's chain hash"
                )
                break
            if chain.chain_hash(prev, capture) != capture.chain_hash:
                report.problem = Problem(
                    **where, reason="capture row altered: its fields no longer hash to its chain_hash"
                )
                break
            try:
                data = files.read(capture.warc_file, capture.warc_offset, capture.warc_length)
            except OSError as exc:
                report.problem = Problem(**where, reason=f"WARC file unreadable: {exc.strerror or exc}")
                break
            reason = check_records(capture, data)
            if reason:
                report.problem = Problem(**where, reason=reason)
                break
            report.checked += 1
            expected_seq, prev = capture.seq + 1, capture.chain_hash
            report.tip = prev
    finally:
        files.close()
    return report


def read_exchange(data_dir: Path | str, capture: Capture) -> Exchange:
    """The response (and request) a capture recorded, read back from its WARC file."""
    with open(Path(data_dir) / capture.warc_file, "rb") as handle:
        handle.seek(capture.warc_offset)
        data = handle.read(capture.warc_length)
    exchange: Exchange | None = None
    request_line, request_headers = "", []
    for warc_headers, http, payload, _problems in _parse(data):
        if warc_headers.get("WARC-Type") == "response" and http is not None:
            code, _, reason = http.statusline.partition(" ")
            exchange = Exchange(
                status=int(code),
                reason=reason,
                protocol=http.protocol,
                headers=list(http.headers),
                body=payload,
                warc_headers=warc_headers,
            )
        elif warc_headers.get("WARC-Type") == "request" and http is not None:
            request_line = f"{http.protocol} {http.statusline}"
            request_headers = list(http.headers)
    if exchange is None:
        raise ValueError(f"no response record for capture seq {capture.seq} in {capture.warc_file}")
    exchange.request_line, exchange.request_headers = request_line, request_headers
    return exchange


@dataclass(frozen=True)
class CopiedRecord:
    capture_id: int | None
    seq: int
    record_id: str
    offset: int  # in the new file
    length: int
    warc_sha256: str


def copy_records(
    captures: Iterable[Capture], out_path: Path | str, data_dir: Path | str | None = None
) -> list[CopiedRecord]:
    """Copy the records of ``captures`` (in chain order, once each) into a new gzip WARC file.

    The file starts with a warcinfo record listing the capture sequence numbers; each exchange is
    copied byte for byte, so its SHA-256 equals the chained ``warc_sha256`` and its WARC digests
    still verify. Raises ValueError if a source range no longer matches its recorded SHA-256
    (a bundle must not carry altered evidence). ``data_dir`` defaults to the configured one.
    """
    if data_dir is None:
        from scanner.config import get_config

        data_dir = get_config().data_dir
    out_path = Path(out_path)
    unique = sorted({c.seq: c for c in captures}.values(), key=lambda c: c.seq)
    files = _Files(Path(data_dir))
    tmp = out_path.with_name(out_path.name + ".part")
    copied: list[CopiedRecord] = []
    try:
        info = {"pkscan-export": "evidence bundle", "pkscan-captures": ",".join(str(c.seq) for c in unique)}
        with open(tmp, "wb") as handle:
            handle.write(warcinfo_member(out_path.name, info))
            for capture in unique:
                data = files.read(capture.warc_file, capture.warc_offset, capture.warc_length)
                digest = hashlib.sha256(data).hexdigest()
                if len(data) != capture.warc_length or (
                    capture.warc_sha256 and digest != capture.warc_sha256
                ):
                    raise ValueError(
                        f"capture seq {capture.seq}: stored WARC bytes do not match the recorded SHA-256"
                    )
                copied.append(
                    CopiedRecord(capture.id, capture.seq, capture.record_id, handle.tell(), len(data), digest)
                )
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out_path)
    finally:
        files.close()
        tmp.unlink(missing_ok=True)
    return copied


def _quoted(exc: Exception) -> str:
    # A parser error can quote the damaged bytes themselves: keep the message printable and short.
    text = str(exc)
    return repr(text[:100] + ("…" if len(text) > 100 else ""))
