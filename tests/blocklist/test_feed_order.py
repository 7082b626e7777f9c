"""A bank polling `?since` on a real server while approvals and revocations commit concurrently, one of
them held open: the bank's incremental state must equal the full list, on SQLite and PostgreSQL.

Before versions were allocated under the publication lock, a held approval had version N+1 while a
later one committed N+2; a bank polling in between applied N+2, and `?since=N+2` never returned
N+1. The cached RPZ (and its ETag) stayed at N+2 after N+1 committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from blocklist import keys
from scanner.config import Config
from scanner.review.decisions import decide, record
from scanner.store.db import open_store, session_scope
from tests.web.reviewkit import flagged_findings

OFFICERS = ("amina", "bilal", "sana")


class Bank:
    """A bank's sync client: one full pull, then `?since=<last applied version>` deltas."""

    def __init__(self, base: str, api_key: str):
        self.base = base
        self.auth = {"Authorization": f"Bearer {api_key}"}
        self.listed: dict[str, str] = {}
        self.version = 0
        self.versions_seen: list[int] = []

    def get(self, artefact: str, **params: Any) -> httpx.Response:
        response = httpx.get(f"{self.base}/feed/v1/{artefact}", params=params, headers=self.auth, timeout=30)
        response.raise_for_status()
        return response

    def full(self) -> dict[str, str]:
        document = self.get("blocklist.json").json()
        return {e["entry_id"]: e["value"] for e in document["entries"]}

    def poll(self) -> None:
        document = self.get("blocklist.json", since=self.version).json()
        for entry in document["entries"]:
            self.listed[entry["entry_id"]] = entry["value"]
        for removal in document["removals"]:
            self.listed.pop(removal["entry_id"], None)
        self.version = document["version"]
        self.versions_seen.append(self.version)


def _config(tmp_path: Path, database_url: str) -> Config:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "settings.yaml").write_text("feed:\n  requests_per_minute: 100000\n")
    return Config(config_dir, env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url})


def test_bank_polling_since_misses_nothing_while_decisions_commit_out_of_order(
    database_url: str, tmp_path: Path, server: Callable[..., str]
) -> None:
    config = _config(tmp_path, database_url)
    engine = open_store(config)
    findings = flagged_findings(config, OFFICERS, [f"exchange-{n}.test" for n in range(8)])

    def decision(finding: int, action: str, by: str) -> None:
        record(engine, config, finding, action, f"{action} by {by}", by, via="test")

    for finding in findings[:3]:  # published: versions 1..3
        decision(finding, "confirm", "amina")
        decision(finding, "approve", "bilal")
    for finding in findings[3:]:  # waiting for a second officer
        decision(finding, "confirm", "amina")
    with Session(engine) as session:
        _, raw_key = keys.create(session, "HBL")
        session.commit()
    bank = Bank(server(config), raw_key)
    bank.listed, bank.version = bank.full(), 3

    # One approval's transaction is held open after its publication was written ...
    held, release = threading.Event(), threading.Event()

    def held_approval() -> None:
        with session_scope(engine) as session:
            decide(session, config, findings[3], "approve", "held open", "bilal", via="test")
            held.set()
            release.wait(60)

    # ... while a bank keeps polling and other officers approve and revoke.
    stop = threading.Event()

    def poller() -> None:
        while not stop.wait(0.02):  # a bank polling as fast as it likes, short of spinning the CPU
            bank.poll()

    holder = threading.Thread(target=held_approval)
    holder.start()
    assert held.wait(60)
    others = [
        threading.Thread(target=decision, args=(findings[4], "approve", "sana")),
        threading.Thread(target=decision, args=(findings[0], "revoke", "sana")),
    ]
    polling = threading.Thread(target=poller)
    for thread in [*others, polling]:
        thread.start()
    for thread in others:
        thread.join(1.0)  # long enough for them to commit, had they not waited for the held one
    rpz_during = bank.get("blocklist.rpz")
    release.set()
    holder.join(60)
    for thread in others:
        thread.join(60)
    more = [
        threading.Thread(target=decision, args=(findings[5], "approve", "bilal")),
        threading.Thread(target=decision, args=(findings[1], "revoke", "bilal")),
        threading.Thread(target=decision, args=(findings[6], "approve", "sana")),
        threading.Thread(target=decision, args=(findings[7], "dismiss", "sana")),
    ]
    for thread in more:
        thread.start()
    for thread in more:
        thread.join(60)
    stop.set()
    polling.join(60)
    bank.poll()

    full = bank.full()
    assert bank.listed == full
    assert sorted(full.values()) == [f"exchange-{n}.test" for n in (2, 3, 4, 5, 6)]
    assert bank.version == 3 + 6  # one version per approval and revocation (the dismissal lists nothing)
    assert bank.versions_seen == sorted(bank.versions_seen)
    history = bank.get("versions").json()
    assert [v["version"] for v in history["versions"]] == list(range(1, bank.version + 1))

    rpz_after = bank.get("blocklist.rpz")
    assert rpz_after.headers["etag"] != rpz_during.headers["etag"]
    assert "exchange-3.test" in rpz_after.text and "exchange-3.test" not in rpz_during.text
