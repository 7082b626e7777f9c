"""Publication gates: checks a blocklist change must pass before banks see it.

`blocklist.publish.sync` computes the pending change (entries to add, entries to remove) and asks
`check` about it before it numbers a version. Each failed gate is a `Failure` saying what is wrong
and with which entries; a change with failures is held (`blocklist.holds`) instead of published,
until the list is fixed by further decisions or an admin releases it with a recorded reason.

Gates (configured in ``config/gates.yaml``, see `GateSettings`):
  valid-name        every entry a valid name of its type (`blocklist.entrycheck`); an invalid name is
                    never published, even on release: the release only acknowledges its refusal
  never-block       no domain entry on or under a never-block domain (government, regulators, banks
                    and wallets, major platforms, and the domains of the licensed register)
  verified-capture  every added entry's platform has a capture that verifies: its chain hash
                    recomputes, a mark does not declare it lost, and its stored WARC records match
  change-share      adds (or removals) above ``change.max_share`` of the listed entries and above
                    ``change.min_count`` need an admin: a first publication is never held by this gate
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import Field, field_validator
from sqlmodel import Session, col, select

from scanner.config import PROJECT_ROOT, Config, StrictModel, parse_model, read_yaml
from scanner.evidence import chain, marks
from scanner.evidence.verify import check_records
from scanner.names import HOSTING_SITES, InvalidName, dns_name
from scanner.store.models import Capture

GATES_FILE = "gates.yaml"
SHIPPED_GATES = PROJECT_ROOT / "config" / GATES_FILE
# A platform whose newest captures all fail is not verified: reading further back would make one
# decision read a platform's whole history.
CAPTURES_TRIED = 5
SHOWN_ENTRIES = 50  # a failure lists at most this many entries (and says how many there are)

VALID_NAME = "valid-name"
NEVER_BLOCK = "never-block"
VERIFIED_CAPTURE = "verified-capture"
CHANGE_SHARE = "change-share"


class ChangeGate(StrictModel):
    max_share: float = Field(0.2, gt=0, le=1)
    min_count: int = Field(10, ge=0)


class NeverBlock(StrictModel):
    domains: list[str] = Field(default_factory=list)
    # register entries of these statuses are never blocked (an NOC holder or a revoked licensee may be)
    register_statuses: list[Literal["licensed", "noc", "suspended", "revoked"]] = Field(
        default_factory=lambda: ["licensed"]
    )

    @field_validator("domains")
    @classmethod
    def _dns_names(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for index, domain in enumerate(domains):
            try:
                cleaned.append(dns_name(str(domain).strip().rstrip(".")))
            except InvalidName as exc:
                raise ValueError(f"[{index}]: {exc} (a never-block entry is a bare domain name)") from None
        return cleaned


class GateSettings(StrictModel):
    verified_capture: bool = True
    change: ChangeGate = Field(default_factory=ChangeGate)
    never_block: NeverBlock = Field(default_factory=NeverBlock)


def load_settings(config: Config) -> GateSettings:
    """The shipped ``config/gates.yaml`` with the top-level keys of the config dir's own ``gates.yaml``
    (or the dir it inherits) in their place: a deployment that only tunes ``change`` still never
    blocks a regulator or a bank."""
    shipped = read_yaml(SHIPPED_GATES) or {}
    path = config.find(GATES_FILE)
    if not path.exists() or path.resolve() == SHIPPED_GATES.resolve():
        return parse_model(GateSettings, shipped, SHIPPED_GATES)
    local = read_yaml(path) or {}
    if not isinstance(local, dict):
        return parse_model(GateSettings, local, path)  # says what is wrong with the file, naming it
    return parse_model(GateSettings, {**shipped, **local}, path)


@dataclass(frozen=True)
class Failure:
    gate: str
    message: str
    entries: tuple[dict[str, Any], ...] = ()  # {type, value, finding_id, why}

    def as_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "message": self.message, "entries": list(self.entries)}


@dataclass(frozen=True)
class Added:
    """An entry the change adds (the fields of `blocklist.publish.Wanted` the gates need)."""

    type: str
    value: str
    platform_id: int
    finding_id: int


@dataclass(frozen=True)
class Change:
    adds: list[Added]
    removals: int
    listed: int  # entries listed before the change
    refused: dict[tuple[str, str], tuple[int, str]]  # (type, value) -> (finding id, why)
    acknowledged: frozenset[tuple[str, str]]  # refusals an admin already released past


def _failure(gate: str, message: str, entries: list[dict[str, Any]]) -> Failure:
    entries.sort(key=lambda e: (e["type"], e["value"]))
    more = f" ({len(entries)} entries, the first {SHOWN_ENTRIES} listed)" if len(entries) > SHOWN_ENTRIES else ""
    return Failure(gate, message + more, tuple(entries[:SHOWN_ENTRIES]))


def _entry(type_: str, value: str, finding_id: int, why: str) -> dict[str, Any]:
    return {"type": type_, "value": value, "finding_id": finding_id, "why": why}


def protected_domains(config: Config, settings: GateSettings) -> set[str]:
    names = set(settings.never_block.domains)
    for platform in config.register.platforms:
        if platform.status in settings.never_block.register_statuses:
            names.update(domain.removeprefix("*.") for domain in platform.domains)
    return names


def _protector(host: str, protected: set[str]) -> str | None:
    """The never-block domain ``host`` is or is under, else None."""
    labels = host.split(".")
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in protected:
            return candidate
    return None


def _never_block(config: Config, settings: GateSettings, adds: list[Added]) -> Failure | None:
    protected = protected_domains(config, settings)
    hits = []
    for add in adds:
        if add.type == "domain":
            host = add.value
        elif add.type == "url":
            # a channel or app on a hosting site is the normal case; a page of a protected site is not
            host = (add.value.removeprefix("https://").split("/", 1)[0]).lower()
            if host in HOSTING_SITES:
                continue
        else:
            continue
        if (by := _protector(host, protected)) is not None:
            hits.append(_entry(add.type, add.value, add.finding_id, f"on the never-block list as {by}"))
    if not hits:
        return None
    return _failure(NEVER_BLOCK, "entries on the never-block list (config/gates.yaml or the licensed register)", hits)


def _valid_names(change: Change) -> Failure | None:
    hits = [
        _entry(type_, value, finding_id, why)
        for (type_, value), (finding_id, why) in change.refused.items()
        if (type_, value) not in change.acknowledged
    ]
    if not hits:
        return None
    return _failure(VALID_NAME, "entries whose name is not valid (never published; a release acknowledges them)", hits)


def _change_share(settings: GateSettings, change: Change) -> Failure | None:
    if change.listed == 0:
        return None  # a first publication (or one after everything was withdrawn) has no share to exceed
    limit = max(settings.change.min_count, math.floor(settings.change.max_share * change.listed))
    parts = [
        f"{count} {what} of {change.listed} listed entries ({count / change.listed:.0%})"
        for count, what in ((len(change.adds), "adds"), (change.removals, "removals"))
        if count > limit
    ]
    if not parts:
        return None
    return Failure(
        CHANGE_SHARE,
        f"{' and '.join(parts)}: more than {settings.change.max_share:.0%} and more than "
        f"{settings.change.min_count} entries change at once; an admin must acknowledge it",
    )


def verified(capture: Capture, lost: set[str], files: dict[str, BinaryIO], data_dir: Path) -> bool:
    """Does ``capture`` verify: chain hash recomputes, not declared lost, WARC records intact?"""
    if capture.chain_hash in lost or chain.chain_hash(capture.prev_chain_hash, capture) != capture.chain_hash:
        return False
    try:
        handle = files.get(capture.warc_file)
        if handle is None:
            handle = files[capture.warc_file] = open(data_dir / capture.warc_file, "rb")  # noqa: SIM115
        handle.seek(capture.warc_offset)
        data = handle.read(capture.warc_length)
    except OSError:
        return False
    return check_records(capture, data) is None


def verified_platforms(session: Session, data_dir: Path, platform_ids: Iterable[int]) -> set[int]:
    """Those of ``platform_ids`` with a capture that verifies (trying each one's newest few)."""
    wanted = sorted(set(platform_ids))
    lost = set(marks.lost_records(session, data_dir))
    found: set[int] = set()
    tried: dict[int, int] = {}
    files: dict[str, BinaryIO] = {}
    try:
        for start in range(0, len(wanted), 500):  # bounded IN lists
            chunk = wanted[start : start + 500]
            rows = session.exec(
                select(Capture)
                .where(col(Capture.platform_id).in_(chunk), Capture.method != marks.MARK_METHOD)
                .order_by(col(Capture.platform_id), col(Capture.seq).desc())
            )
            for capture in rows:
                platform_id = capture.platform_id or 0
                if platform_id in found or tried.get(platform_id, 0) >= CAPTURES_TRIED:
                    continue
                tried[platform_id] = tried.get(platform_id, 0) + 1
                if verified(capture, lost, files, data_dir):
                    found.add(platform_id)
    finally:
        for handle in files.values():
            handle.close()
    return found


def _verified_capture(session: Session, config: Config, adds: list[Added]) -> Failure | None:
    ok = verified_platforms(session, config.data_dir, (a.platform_id for a in adds))
    hits = [
        _entry(a.type, a.value, a.finding_id, "no capture of its platform verifies (evidence chain and WARC record)")
        for a in adds
        if a.platform_id not in ok
    ]
    if not hits:
        return None
    return _failure(VERIFIED_CAPTURE, "entries without a verified capture", hits)


def check(session: Session, config: Config, change: Change) -> list[Failure]:
    """Every gate the change fails, in a fixed order (empty: publish it)."""
    settings = load_settings(config)
    results = [
        _valid_names(change),
        _never_block(config, settings, change.adds),
        _verified_capture(session, config, change.adds) if settings.verified_capture else None,
        _change_share(settings, change),
    ]
    return [failure for failure in results if failure is not None]
