"""Verify the evidence log and re-read or copy the WARC records a capture points at.

`verify(engine, data_dir)` walks every capture in chain order and checks each one, going on after a
problem so that the report names every bad record:
  1. ``seq`` is gapless (1, 2, 3, ...) and ``prev_chain_hash`` is the previous row's ``chain_hash``;
  2. ``chain_hash`` recomputes from the row's fields (a changed row breaks here);
  3. the stored WARC bytes hash to ``warc_sha256`` (any altered byte, even in gzip framing);
  4. the records parse, their WARC digests pass, the response record has the row's record id, URL and
     body SHA-256/length, and the request record is ``WARC-Concurrent-To`` the response. For a
     RENDER capture (a page rendered in Chromium) the ``conversion`` record (the DOM) stands for the
     response, and the screenshot ``resource`` record must be there with its digests passing, its
     SHA-256 equal to the chained ``screenshot_sha256``, ``WARC-Concurrent-To`` the DOM record and
     ``WARC-Refers-To`` the same response. The record's ``WARC-Pkscan-Vantage`` (absent for a
     direct fetch) is the row's chained ``vantage``.
After a bad row the walk continues from that row's stored chain hash, so one altered row is one
problem, not a cascade. Problems of kind ``chain`` (1, 2, and a row that disagrees with authentic
WARC bytes) mean the log was altered; kind ``warc`` means a record's bytes are missing or damaged.
A *mark* (`scanner.evidence.marks`, appended by `scanner evidence repair`) moves the ``warc``
problems it names into ``report.marked``: the report is ok when no unmarked problem is left.
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

from scanner.evidence import chain, marks
from scanner.evidence.recorder import is_render
from scanner.evidence.warc import RENDERED_DOM_TYPE, warcinfo_member
from scanner.net.vantage import WARC_VANTAGE
from scanner.store.models import Capture

BATCH = 1000


CHAIN = "chain"  # the capture log itself was altered: rows changed, deleted or re-ordered
WARC = "warc"  # a capture's WARC bytes are missing or damaged (a mark can declare them lost)


@dataclass(frozen=True)
class Problem:
    seq: int
    url: str
    warc_file: str
    offset: int
    reason: str
    kind: str = WARC
    chain_hash: str = ""  # of the capture row, so a mark names exactly this row

    def __str__(self) -> str:
        return (
            f"capture seq {self.seq} ({self.url}) in {self.warc_file} at offset {self.offset}: {self.reason}"
        )


@dataclass(frozen=True)
class MarkedProblem:
    """A bad record that a mark (chain entry ``mark_seq``) declared lost, and why."""

    problem: Problem
    mark_seq: int
    mark_reason: str

    def __str__(self) -> str:
        return f"{self.problem} [marked lost by chain entry {self.mark_seq}: {self.mark_reason}]"


@dataclass
class VerifyReport:
    checked: int = 0  # chain entries examined (captures and marks)
    problems: list[Problem] = field(default_factory=list)  # unmarked bad records, in chain order
    marked: list[MarkedProblem] = field(default_factory=list)
    marks: int = 0  # mark entries in the chain
    tip: str = chain.GENESIS  # chain hash of the last entry

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        """The first unmarked bad record, if any."""
        return self.problems[0] if self.problems else None

    @property
    def captures(self) -> int:
        """Captures whose records verified (marks and marked captures not counted)."""
        return self.checked - self.marks - len(self.problems) - len(self.marked)


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
    return _check_records(capture, data)[0]


def _check_records(capture: Capture, data: bytes) -> tuple[str | None, str]:
    """(why the stored bytes do not match the row or None, the kind of problem)."""
    if len(data) != capture.warc_length:
        return f"WARC file truncated: {len(data)} of {capture.warc_length} bytes present", WARC
    if capture.warc_sha256 and hashlib.sha256(data).hexdigest() != capture.warc_sha256:
        reason = "stored WARC bytes do not match the recorded SHA-256"
        try:
            records = _parse(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the finding we report
            return f"{reason} (records unreadable: {type(exc).__name__}: {_quoted(exc)})", WARC
        for warc_headers, _http, _payload, problems in records:
            if problems:
                return f"{reason} ({warc_headers.get('WARC-Type')} record: {'; '.join(problems)})", WARC
        return reason, WARC
    # From here the bytes are the chained ones (or a legacy row without warc_sha256): a mismatch means
    # the row was altered and its chain recomputed, unless the row predates warc_sha256.
    kind = CHAIN if capture.warc_sha256 else WARC
    try:
        records = _parse(data)
    except Exception as exc:  # noqa: BLE001
        return f"WARC records unreadable: {type(exc).__name__}: {_quoted(exc)}", kind
    by_type = {
        headers.get("WARC-Type"): (headers, payload, problems) for headers, _h, payload, problems in records
    }
    main = "metadata" if marks.is_mark(capture) else "conversion" if is_render(capture) else "response"
    if main not in by_type:
        return f"no {main} record at the recorded offset", kind
    headers, payload, problems = by_type[main]
    if problems:
        return f"{main} record " + "; ".join(problems), kind
    if headers.get("WARC-Record-ID") != capture.record_id:
        return (
            f"{main} record id {headers.get('WARC-Record-ID')} is not the recorded {capture.record_id}",
            kind,
        )
    if headers.get("WARC-Target-URI") != capture.url:
        return f"{main} record is for {headers.get('WARC-Target-URI')}, not {capture.url}", kind
    body_sha256 = hashlib.sha256(payload).hexdigest()
    if body_sha256 != capture.body_sha256 or len(payload) != capture.body_length:
        return (
            f"body SHA-256 {body_sha256} ({len(payload)} bytes) is not the recorded {capture.body_sha256}",
            kind,
        )
    recorded_vantage = headers.get(WARC_VANTAGE) or None
    if recorded_vantage != capture.vantage:
        return (
            f"{main} record says vantage point {recorded_vantage or 'direct'}, the row "
            f"{capture.vantage or 'direct'}",
            kind,
        )
    if is_render(capture):
        return _check_screenshot(capture, headers, by_type.get("resource")), kind
    if capture.request_record_id:
        if "request" not in by_type:
            return "request record missing", kind
        req_headers, _payload, req_problems = by_type["request"]
        if req_problems:
            return "request record " + "; ".join(req_problems), kind
        if req_headers.get("WARC-Record-ID") != capture.request_record_id:
            return (
                f"request record id {req_headers.get('WARC-Record-ID')} is not the recorded "
                f"{capture.request_record_id}",
                kind,
            )
        if req_headers.get("WARC-Concurrent-To") != capture.record_id:
            return "request record is not WARC-Concurrent-To its response", kind
    return None, kind


def _check_screenshot(
    capture: Capture, conversion: dict[str, str], resource: tuple[dict[str, str], bytes, list[str]] | None
) -> str | None:
    """A RENDER capture: its screenshot record is there, intact, chained and tied to the rendering."""
    if not conversion.get("WARC-Refers-To"):
        return "rendered DOM record does not say which response it renders (WARC-Refers-To)"
    if resource is None:
        return "screenshot record missing"
    headers, payload, problems = resource
    if problems:
        return "screenshot record " + "; ".join(problems)
    if headers.get("WARC-Record-ID") != capture.request_record_id:
        return f"screenshot record id {headers.get('WARC-Record-ID')} is not the recorded {capture.request_record_id}"
    if headers.get("WARC-Concurrent-To") != capture.record_id:
        return "screenshot record is not WARC-Concurrent-To its rendered DOM"
    if headers.get("WARC-Refers-To") != conversion.get("WARC-Refers-To"):
        return "screenshot record refers to another response than its rendered DOM"
    digest = hashlib.sha256(payload).hexdigest()
    if digest != capture.screenshot_sha256:
        return f"screenshot SHA-256 {digest} is not the recorded {capture.screenshot_sha256}"
    return None


def _chain_problem(capture: Capture, expected_seq: int, prev: str) -> str | None:
    if capture.seq != expected_seq:
        return f"chain gap: expected seq {expected_seq}, found {capture.seq}"
    if capture.prev_chain_hash != prev:
        return "prev_chain_hash does not match the previous capture's chain hash"
    if chain.chain_hash(prev, capture) != capture.chain_hash:
        return "capture row altered: its fields no longer hash to its chain_hash"
    return None


def _apply_mark(
    capture: Capture, data: bytes, report: VerifyReport, open_problems: dict[int, Problem]
) -> None:
    """Move the open WARC problems a (verified) mark names into ``report.marked``."""
    records = _parse(data)
    mark = marks.parse(
        next(payload for headers, _h, payload, _p in records if headers.get("WARC-Type") == "metadata")
    )
    report.marks += 1
    for entry in mark.marked:
        problem = open_problems.get(entry.seq)
        if problem is not None and problem.chain_hash == entry.chain_hash:
            del open_problems[entry.seq]
            report.problems.remove(problem)
            report.marked.append(MarkedProblem(problem, capture.seq, mark.reason))


def verify(engine: Engine, data_dir: Path | str) -> VerifyReport:
    """Check the whole evidence log; ``report.problems`` lists every bad record not marked lost."""
    report = VerifyReport()
    files = _Files(Path(data_dir))
    open_problems: dict[int, Problem] = {}  # WARC problems a later mark may declare lost, by seq
    expected_seq, prev = 1, chain.GENESIS
    try:
        for capture in _captures(engine):
            report.checked += 1
            where = dict(
                seq=capture.seq,
                url=capture.url,
                warc_file=capture.warc_file,
                offset=capture.warc_offset,
                chain_hash=capture.chain_hash,
            )
            reason = _chain_problem(capture, expected_seq, prev)
            # Whatever is wrong, go on from this row as stored: every bad record is reported once.
            expected_seq, prev = capture.seq + 1, capture.chain_hash
            report.tip = prev
            if reason:
                report.problems.append(Problem(**where, reason=reason, kind=CHAIN))
                continue
            try:
                data = files.read(capture.warc_file, capture.warc_offset, capture.warc_length)
            except OSError as exc:
                problem = Problem(**where, reason=f"WARC file unreadable: {exc.strerror or exc}", kind=WARC)
                report.problems.append(problem)
                open_problems[capture.seq] = problem
                continue
            reason, kind = _check_records(capture, data)
            if reason is None and marks.is_mark(capture):
                try:
                    _apply_mark(capture, data, report, open_problems)
                except (ValueError, StopIteration) as exc:
                    reason, kind = f"evidence mark unreadable: {exc}", CHAIN
            if reason:
                problem = Problem(**where, reason=reason, kind=kind)
                report.problems.append(problem)
                if kind == WARC:
                    open_problems[capture.seq] = problem
    finally:
        files.close()
    return report


def _read_range(data_dir: Path | str, capture: Capture) -> bytes:
    with open(Path(data_dir) / capture.warc_file, "rb") as handle:
        handle.seek(capture.warc_offset)
        return handle.read(capture.warc_length)


def read_exchange(data_dir: Path | str, capture: Capture) -> Exchange:
    """The response (and request) a capture recorded, read back from its WARC file.

    For a RENDER capture: the rendered DOM as a 200 ``text/html`` response (no request).
    """
    data = _read_range(data_dir, capture)
    if is_render(capture):
        for warc_headers, _http, payload, _problems in _parse(data):
            if warc_headers.get("WARC-Type") == "conversion":
                content_type = warc_headers.get("Content-Type", RENDERED_DOM_TYPE)
                return Exchange(200, "OK", "HTTP/1.1", [("Content-Type", content_type)], payload,
                                warc_headers=warc_headers)  # fmt: skip
        raise ValueError(f"no rendered DOM record for capture seq {capture.seq} in {capture.warc_file}")
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


def read_screenshot(data_dir: Path | str, capture: Capture) -> bytes | None:
    """The PNG screenshot of a RENDER capture (None for other captures), checked against the chain.

    Raises ValueError when the stored screenshot does not hash to the chained ``screenshot_sha256``.
    """
    if not is_render(capture):
        return None
    for warc_headers, _http, payload, _problems in _parse(_read_range(data_dir, capture)):
        if warc_headers.get("WARC-Type") == "resource":
            if hashlib.sha256(payload).hexdigest() != capture.screenshot_sha256:
                raise ValueError(f"capture seq {capture.seq}: screenshot does not match the chained SHA-256")
            return payload
    raise ValueError(f"no screenshot record for capture seq {capture.seq} in {capture.warc_file}")


@dataclass(frozen=True)
class CopiedRecord:
    capture_id: int | None
    seq: int
    record_id: str
    offset: int  # in the new file
    length: int
    warc_sha256: str


def copy_records(
    captures: Iterable[Capture], out_path: Path | str, data_dir: Path | str
) -> list[CopiedRecord]:
    """Copy the records of ``captures`` (in chain order, once each) into a new gzip WARC file.

    The file starts with a warcinfo record listing the capture sequence numbers; each exchange is
    copied byte for byte, so its SHA-256 equals the chained ``warc_sha256`` and its WARC digests
    still verify. Raises ValueError if a source range no longer matches its recorded SHA-256
    (a bundle must not carry altered evidence).
    """
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
    text = "".join(c if " " <= c <= "~" else "?" for c in str(exc)[:100])
    return repr(text + ("…" if len(str(exc)) > 100 else ""))
