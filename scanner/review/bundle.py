"""Evidence bundle: one zip per finding that a court can verify offline.

Contents:
  evidence.warc.gz  the WARC records of every capture behind the finding (each record is its own
                    gzip member, so the byte ranges copied from the scanner's WARC files
                    concatenate into a valid WARC.gz)
  manifest.json     the finding, platform, domains, every capture with its digests and hash-chain
                    position, the signals with their capture ids, the decisions (who, when, why),
                    the audit trail, when and by which tool version it was generated
  README.txt        how to verify, for people who do not run our software

`verify_bundle` re-reads the WARC, recomputes every response's payload SHA-256 and the WARC digests,
and checks the chain links between the listed captures; ``scanner evidence verify --bundle FILE``
calls it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from sqlmodel import Session, col, or_, select

from scanner.config import MAX_RESPONSE_BYTES, Config
from scanner.evidence.chain import canonical, chain_hash
from scanner.evidence.decoding import DecodedTooLarge, StackTooLarge, decoded_blocks
from scanner.evidence.marks import lost_records
from scanner.evidence.verify import copy_records
from scanner.filemodes import private_dir, private_file
from scanner.printable import visible_json
from scanner.review import audit
from scanner.review.decisions import decisions_for
from scanner.store.models import (
    Capture,
    Finding,
    FindingEvent,
    PageAnalysis,
    Platform,
    PlatformDomain,
    Signal,
    utcnow,
)

WARC_NAME = "evidence.warc.gz"
MANIFEST_NAME = "manifest.json"
README_NAME = "README.txt"
FORMAT = "pkscan-evidence-bundle/1"

README = """\
pkscan evidence bundle — finding {finding_id} ({platform})
Generated {generated_at} by {tool} {tool_version}.

WHAT IS IN THIS FILE
  evidence.warc.gz  The HTTP requests and responses the scanner recorded, in WARC format
                    (ISO 28500), exactly as they were written at capture time.
  manifest.json     What the scanner concluded and why: the platform, its domains, the signals
                    (each naming the capture it was found in), the officers' decisions with their
                    reasons, the audit trail, and for every capture its SHA-256 body digest and its
                    position in the scanner's hash chain (seq, prev_chain_hash, chain_hash).
                    Captures whose stored records were lost before this bundle was made (declared
                    lost in the chain by `scanner evidence repair`) are not in the WARC file; they
                    are listed under "lost_captures" with the reason given.

HOW TO VERIFY (any of these, independently)
  1. The WARC file is intact: its SHA-256 must equal manifest.json "warc_sha256".
       sha256sum evidence.warc.gz
  2. Each record is intact: WARC records carry their own digests (WARC-Block-Digest,
     WARC-Payload-Digest). Any WARC tool checks them, e.g.  pip install warcio; warcio check -v evidence.warc.gz
  3. Each page is the one analysed: the SHA-256 of each response's body equals the capture's
     "body_sha256" in manifest.json (match records by "record_id" = WARC-Record-ID).
  4. Each exchange's bytes are the ones the scanner chained: the SHA-256 of the bytes at
     [bundle_offset, bundle_offset + bundle_length) of evidence.warc.gz equals the capture's
     "warc_sha256", which is one of its chained fields.
  5. Nothing was altered, inserted or removed: the scanner keeps every capture in one hash chain,
       chain_hash = SHA-256( prev_chain_hash + "\n" + C + "\n" + body_sha256 )
     where C is the capture's "chained" object written as JSON with sorted keys, no spaces, UTF-8.
     For captures with consecutive "seq" numbers, the later "prev_chain_hash" equals the earlier
     "chain_hash". The chain hashes can be compared with the scanner's database: changing any
     capture there breaks the chain for every later capture.
  With the scanner installed, all checks at once:  scanner evidence verify --bundle THIS_FILE.zip

WHERE EACH PAGE WAS SEEN FROM
  A capture's "vantage" names the vantage point it was fetched through (an egress proxy standing for
  a country, e.g. "pk" for a Pakistani exit; null: fetched directly). It is one of its chained fields
  and is repeated in its WARC records (WARC-Pkscan-Vantage, WARC-Pkscan-Vantage-Country). Sites may
  show visitors from Pakistan what they hide from others, so compare pages by vantage point.
"""


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as UTF-8 JSON, control and format characters (an officer's right-to-left
    override, a page's zero-width space) as JSON escapes: a court's reader sees them named, and a
    lone surrogate (a JSON value stored before `scanner.printable.storable`, which has no UTF-8
    form and made every bundle of its finding fail) is written as the escape it came from."""
    return visible_json(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)).encode()


def tool_version() -> str:
    try:
        return version("pkscan")
    except PackageNotFoundError:
        return "unknown"


def finding_captures(session: Session, finding: Finding) -> list[Capture]:
    """Every capture behind a finding: its platform's captures and any its signals or history cite."""
    cited: set[int] = set()
    for query in (
        select(Signal.capture_id).where(Signal.finding_id == finding.id),
        select(FindingEvent.capture_id).where(FindingEvent.finding_id == finding.id),
        select(PageAnalysis.capture_id).where(PageAnalysis.platform_id == finding.platform_id),
    ):
        cited.update(cid for cid in session.exec(query) if cid is not None)
    query = select(Capture).where(or_(Capture.platform_id == finding.platform_id, col(Capture.id).in_(cited)))
    return list(session.exec(query.order_by(col(Capture.seq))))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _capture_json(capture: Capture) -> dict[str, Any]:
    return {
        "id": capture.id,
        "seq": capture.seq,
        "url": capture.url,
        "final_url": capture.final_url,
        "method": capture.method,
        "status": capture.status,
        "content_type": capture.content_type,
        "fetched_at": _iso(capture.fetched_at),
        "remote_ip": capture.remote_ip,
        "vantage": capture.vantage,  # the vantage point it was fetched through (None: direct); chained when set
        "record_id": capture.record_id,
        "request_record_id": capture.request_record_id,
        "body_sha256": capture.body_sha256,
        "body_length": capture.body_length,
        "warc_sha256": getattr(capture, "warc_sha256", ""),
        "prev_chain_hash": capture.prev_chain_hash,
        "chain_hash": capture.chain_hash,
        "source_warc": {
            "file": capture.warc_file,
            "offset": capture.warc_offset,
            "length": capture.warc_length,
        },
    }


def build_manifest(
    session: Session, config: Config, finding: Finding, captures: list[Capture]
) -> dict[str, Any]:
    platform = session.get(Platform, finding.platform_id)
    domains = session.exec(select(PlatformDomain).where(PlatformDomain.platform_id == finding.platform_id))
    signals = session.exec(select(Signal).where(Signal.finding_id == finding.id).order_by(col(Signal.id)))
    history = session.exec(
        select(FindingEvent).where(FindingEvent.finding_id == finding.id).order_by(col(FindingEvent.at))
    )
    trail = sorted(
        audit.events(session, audit.finding_subject(finding.id or 0)), key=lambda e: (e.at, e.id or 0)
    )
    return {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "tool": "pkscan",
        "tool_version": tool_version(),
        "two_person_rule": config.settings.review.two_person_rule,
        "finding": {
            "id": finding.id,
            "status": finding.status,
            "verdict": finding.verdict,
            "score": finding.score,
            "crypto_service": finding.crypto_service,
            "targets_pakistan": finding.targets_pakistan,
            "licensed": finding.licensed,
            "licence_status": finding.licence_status,
            "first_seen": _iso(finding.first_seen),
            "last_seen": _iso(finding.last_seen),
            "sightings": finding.sightings,
            "content_digest": finding.content_digest,
            "explanation": finding.explanation,
        },
        "platform": {
            "id": platform.id if platform else finding.platform_id,
            "key": platform.key if platform else "",
            "name": platform.name if platform else "",
            "kind": platform.kind if platform else "",
            "mirror_of_id": platform.mirror_of_id if platform else None,
        },
        "domains": [{"value": d.value, "kind": d.kind, "first_seen": _iso(d.first_seen)} for d in domains],
        "captures": [_capture_json(c) for c in captures],
        "signals": [
            {
                "kind": s.kind,
                "value": s.value,
                "snippet": s.snippet,
                "locator": s.locator,
                "weight": s.weight,
                "capture_id": s.capture_id,
                "seen_at": _iso(s.seen_at),
            }
            for s in signals
        ],
        "history": [
            {
                "kind": e.kind,
                "at": _iso(e.at),
                "score": e.score,
                "verdict": e.verdict,
                "capture_id": e.capture_id,
            }
            for e in history
        ],
        "decisions": [
            {"id": d.id, "action": d.action, "by": d.by_user, "at": _iso(d.at), "reason": d.reason}
            for d in decisions_for(session, finding.id or 0)
        ],
        "audit": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail} for e in trail
        ],
    }


def _copy(config: Config, captures: list[Capture], out_path: Path) -> dict[int | None, tuple[int, int]]:
    # Refuses to copy a range whose bytes no longer match the chained digest.
    copied = copy_records(captures, out_path, data_dir=config.data_dir)
    return {c.capture_id: (c.offset, c.length) for c in copied}


def _chained_fields(capture: Capture) -> dict[str, Any] | None:
    """Exactly the fields the chain hash covers, as hashed (so the bundle can recompute it)."""
    return json.loads(canonical(capture))


def _without_lost(
    session: Session, config: Config, captures: list[Capture]
) -> tuple[list[Capture], list[dict[str, Any]]]:
    """The captures whose records can be copied, and those a repair declared lost (for the manifest)."""
    lost_by_hash = lost_records(session, config.data_dir)
    kept, lost = [], []
    for capture in captures:
        mark = lost_by_hash.get(capture.chain_hash)
        if mark is None or mark.seq != capture.seq:
            kept.append(capture)
            continue
        lost.append({
            "id": capture.id, "seq": capture.seq, "url": capture.url, "fetched_at": _iso(capture.fetched_at),
            "chain_hash": capture.chain_hash, "marked_lost_by_seq": mark.mark_seq, "reason": mark.reason,
            "problem": mark.problem,
        })  # fmt: skip
    return kept, lost


def build_bundle(session: Session, config: Config, finding_id: int, out_path: Path) -> Path:
    """Write the evidence bundle of ``finding_id`` to ``out_path`` (a .zip), atomically."""
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise LookupError(f"finding {finding_id} not found")
    captures, lost = _without_lost(session, config, finding_captures(session, finding))
    out_path = Path(out_path)
    private_dir(out_path.parent)
    warc_tmp = out_path.with_name(out_path.name + ".warc.tmp")
    zip_tmp = out_path.with_name(out_path.name + ".tmp")
    try:
        # Evidence: owner-only (0600) whatever the umask; the zip keeps its temporary file's mode.
        private_file(warc_tmp)
        private_file(zip_tmp)
        placed = _copy(config, captures, warc_tmp)
        manifest = build_manifest(session, config, finding, captures)
        for entry, capture in zip(manifest["captures"], captures, strict=True):
            entry["bundle_offset"], entry["bundle_length"] = placed.get(capture.id, (None, None))
            entry["chained"] = _chained_fields(capture)
        manifest["lost_captures"] = lost
        manifest["warc_sha256"] = sha256_file(warc_tmp)
        readme = README.format(
            finding_id=finding_id,
            platform=manifest["platform"]["key"],
            generated_at=manifest["generated_at"],
            tool=manifest["tool"],
            tool_version=manifest["tool_version"],
        )
        with zipfile.ZipFile(zip_tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(warc_tmp, WARC_NAME, compress_type=zipfile.ZIP_STORED)
            bundle.writestr(MANIFEST_NAME, manifest_bytes(manifest))
            bundle.writestr(README_NAME, readme)
        zip_tmp.replace(out_path)
    finally:
        warc_tmp.unlink(missing_ok=True)
        zip_tmp.unlink(missing_ok=True)
    return out_path


SCRATCH_DIR = "bundles"
DECODE_BLOCK = 1 << 20  # bytes read or inflated at a time when verifying
SPOOL_BYTES = 8 << 20  # a record's payload kept in memory up to this, on disk beyond, when verifying
MAX_DECODED = MAX_RESPONSE_BYTES  # no body pkscan records decodes to more
# A manifest is ~2 KB a capture (a finding of tens of thousands of captures); a zip member inflates to
# whatever its author wants (1 GiB of zeros is 1 MB deflated), so it is read only this far.
MAX_MANIFEST = 128 << 20
DECODE_BUDGET = 2 << 30  # bytes of bodies a verification decodes in all (~2 s of CPU a GiB)
SCRATCH_MAX_AGE_SECONDS = 3600


def scratch_file(data_dir: Path, suffix: str) -> Path:
    """A new private (0600) file under ``<data dir>/bundles/`` for a bundle built on demand.

    The web deletes each one once it is sent; files older than an hour (left by a crash, or by
    earlier versions that kept every bundle) are deleted here.
    """
    directory = private_dir(Path(data_dir) / SCRATCH_DIR)
    cutoff = time.time() - SCRATCH_MAX_AGE_SECONDS
    for old in directory.iterdir():
        try:
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another worker expired it first
            continue
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="bundle-", dir=directory)
    os.close(fd)
    return Path(name)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- verification


def _decoded_sha256(raw: IO[bytes], http_headers: Any, budget: list[int]) -> tuple[str | None, str | None]:
    """SHA-256 of the body (``raw``, a file at its start) with transfer- and content-encoding undone,
    if the response used any, and else None; with why it was not decoded, if so.

    Decoded and hashed a block at a time (`scanner.evidence.decoding`): a recorded gzip bomb (1.6 MB
    inflating to 1.6 GB) held twice its inflated size (3.3 GB) when it was read whole, and warcio
    inflated a brotli block whole (1.6 KB held 1 GiB). No body pkscan records decodes to more than
    `MAX_DECODED` bytes, and a bundle's bodies are decoded for at most ``budget[0]`` bytes in all
    (each forged record could otherwise cost seconds of inflation)."""
    if http_headers is None:
        return None, None
    encoding = (http_headers.get_header("Content-Encoding") or "").strip()
    chunked = "chunked" in (http_headers.get_header("Transfer-Encoding") or "").lower()
    if not encoding and not chunked:
        return None, None
    limit = max(0, min(MAX_DECODED, budget[0]))
    digest, decoded = hashlib.sha256(), 0
    try:
        for block in decoded_blocks(raw, http_headers, limit):
            digest.update(block)
            decoded += len(block)
    except DecodedTooLarge as exc:
        budget[0] -= limit
        if isinstance(exc, StackTooLarge):
            return None, f"not decoded: its {exc}"
        if limit < MAX_DECODED:
            return None, f"not decoded: the bundle's bodies decode to more than {DECODE_BUDGET} bytes"
        return None, f"not decoded: it decodes to more than {MAX_DECODED} bytes (max_response_bytes at most)"
    budget[0] -= decoded
    return digest.hexdigest(), None


def _warc_records(stream: IO[bytes], problems: list[str], wanted: set[str]) -> dict[str, dict[str, Any]]:
    """WARC-Record-ID -> {type, payload digests, digest check}, problems appended. The digest of the
    decoded payload is computed only for a record whose raw payload is none of the ``wanted``
    body digests (bundles written before bodies were hashed as received).

    Read from a stream, a block at a time: a record's payload is kept (for that decoded digest) in
    memory up to `SPOOL_BYTES`, on disk beyond."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    records: dict[str, dict[str, Any]] = {}
    budget = [DECODE_BUDGET]
    try:
        iterator = ArchiveIterator(stream, check_digests=True)
        for record in iterator:
            record_id = record.rec_headers.get_header("WARC-Record-ID") or ""
            digest = hashlib.sha256()
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as raw:
                while block := record.raw_stream.read(DECODE_BLOCK):
                    digest.update(block)
                    raw.write(block)
                digests, undecoded = {digest.hexdigest()}, None
                if not digests & wanted:
                    raw.seek(0)
                    decoded, undecoded = _decoded_sha256(raw, record.http_headers, budget)  # type: ignore[arg-type]
                    if decoded is not None:
                        digests.add(decoded)
            checker = record.digest_checker
            if checker.passed is False:
                problems.append(f"WARC record {record_id}: {'; '.join(map(str, checker.problems))}")
            records[record_id] = {"type": record.rec_type, "sha256": digests, "undecoded": undecoded}
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        problems.append(f"{WARC_NAME}: not a readable WARC file ({exc})")
    return records


def _warc_digests(stream: IO[bytes], ranges: list[tuple[int, int]]) -> tuple[str, list[str | None]]:
    """SHA-256 of the whole stream and of each (offset, length) range of it, in one pass a block at a
    time; a range beyond the end has no digest (None)."""
    whole = hashlib.sha256()
    parts = [hashlib.sha256() for _ in ranges]
    position = 0
    while block := stream.read(DECODE_BLOCK):
        whole.update(block)
        end = position + len(block)
        for (offset, length), part in zip(ranges, parts, strict=True):
            start, stop = max(offset, position), min(offset + length, end)
            if start < stop:
                part.update(block[start - position : stop - position])
        position = end
    return whole.hexdigest(), [
        part.hexdigest() if offset + length <= position else None
        for (offset, length), part in zip(ranges, parts, strict=True)
    ]


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """A zip member inflated a block at a time, or None if it is larger than ``limit`` bytes (its
    declared size is its author's word: the blocks are counted)."""
    blocks, size = [], 0
    with archive.open(name) as member:
        while block := member.read(DECODE_BLOCK):
            size += len(block)
            if size > limit:
                return None
            blocks.append(block)
    return b"".join(blocks)


def verify_bundle(path: Path | str) -> list[str]:
    """Problems found in an evidence bundle; an empty list means it verifies.

    The WARC is read from the zip as a stream, twice (its digests, then its records): memory stays
    bounded whatever the size of the bundle (before, the WARC and each record's payload were held
    whole)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
            missing = [n for n in (WARC_NAME, MANIFEST_NAME) if n not in names]
            if missing:
                return [f"{path.name}: missing {', '.join(missing)}"]
            manifest_bytes = read_member(bundle, MANIFEST_NAME, MAX_MANIFEST)
            if manifest_bytes is None:
                return [
                    f"{MANIFEST_NAME}: larger than {MAX_MANIFEST} bytes once inflated: not a manifest pkscan writes"
                ]
            try:
                manifest = json.loads(manifest_bytes)
                captures = list(manifest["captures"])
            except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: [[[[…
                return [f"{MANIFEST_NAME}: not a valid manifest ({type(exc).__name__}: {str(exc)[:200]})"]
            problems: list[str] = []
            if manifest.get("format") != FORMAT:
                problems.append(
                    f"{MANIFEST_NAME}: unknown format {manifest.get('format')!r} (expected {FORMAT})"
                )
            ranged = [
                c for c in captures
                if isinstance(c, dict) and c.get("warc_sha256")
                and isinstance(c.get("bundle_offset"), int) and isinstance(c.get("bundle_length"), int)
            ]  # fmt: skip
            with bundle.open(WARC_NAME) as stream:
                actual, range_digests = _warc_digests(
                    stream, [(c["bundle_offset"], c["bundle_length"]) for c in ranged]
                )
            wanted = {c.get("body_sha256") for c in captures if isinstance(c, dict)} - {None}
            with bundle.open(WARC_NAME) as stream:
                records = _warc_records(stream, problems, wanted)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        return [f"{path}: not a readable zip file ({type(exc).__name__}: {exc})"]

    if manifest.get("warc_sha256") != actual:
        problems.append(f"{WARC_NAME}: SHA-256 is {actual}, manifest says {manifest.get('warc_sha256')}")
    mismatched = {
        id(capture)
        for capture, digest in zip(ranged, range_digests, strict=True)
        if digest != capture["warc_sha256"]
    }
    for capture in captures:
        record = records.get(capture.get("record_id", ""))
        label = f"capture {capture.get('id')} (seq {capture.get('seq')}, {capture.get('url')})"
        if id(capture) in mismatched:
            problems.append(f"{label}: WARC bytes do not match the chained warc_sha256")
        if record is None:
            problems.append(f"{label}: response record {capture.get('record_id')} is not in {WARC_NAME}")
        elif capture.get("body_sha256") not in record["sha256"]:
            why = f" ({record['undecoded']})" if record.get("undecoded") else ""
            problems.append(f"{label}: body SHA-256 does not match the manifest's body_sha256{why}")
    problems.extend(_chain_problems(captures))
    return problems


def _chain_problems(captures: list[dict[str, Any]]) -> list[str]:
    problems = []
    by_seq = sorted(captures, key=lambda c: c.get("seq", 0))
    for earlier, later in zip(by_seq, by_seq[1:], strict=False):
        if later.get("seq") == earlier.get("seq"):
            problems.append(f"chain: seq {later.get('seq')} is listed twice")
        elif later.get("seq") == (earlier.get("seq") or 0) + 1 and later.get(
            "prev_chain_hash"
        ) != earlier.get("chain_hash"):
            problems.append(
                f"chain: capture seq {later.get('seq')} does not link to seq {earlier.get('seq')} "
                "(prev_chain_hash differs from the previous chain_hash)"
            )
    for capture in by_seq:
        fields = capture.get("chained")
        seq = capture.get("seq")
        if not isinstance(fields, dict):
            problems.append(f"chain: capture seq {seq}: the manifest lacks its chained fields")
            continue
        differ = [
            k
            for k in ("seq", "body_sha256", "record_id", "warc_sha256", "vantage")
            if fields.get(k) != capture.get(k)
        ]
        if differ:
            problems.append(f"chain: capture seq {seq}: chained {', '.join(differ)} differ from the manifest")
        if chain_hash(capture.get("prev_chain_hash", ""), fields) != capture.get("chain_hash"):
            problems.append(f"chain: capture seq {seq}: chain_hash does not match its fields")
    return problems
