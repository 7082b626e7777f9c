"""Text people type into pkscan (officers' reasons, login names) and rows stored before NUL and lone
surrogates were replaced at the store: shown, exported and fed to banks written out, never raw, and
never a failed page or bundle.

A reason can hold what a keyboard, a paste or a script sends: a right-to-left override, ESC, line
breaks, NUL. Rows stored on SQLite before `scanner.printable.storable` can hold NUL in text columns
and lone surrogates in JSON columns (``json.dumps`` wrote them as ``\\ud800`` escapes); they are
written here with sqlite3 itself, as the old code left them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from blocklist import keys
from scanner.review.bundle import verify_bundle
from scanner.store.db import open_store
from scanner.store.models import User
from scanner.web import create_app
from tests.hostile.conftest import SCANNER
from tests.web.reviewkit import (
    PASSWORD,
    WarcLog,
    csrf_from,
    flagged_findings,
    login,
    make_config,
    password_hash,
    seed,
    serve,
)

RAW = ("\x00", "\u202e", "\x1b", "\u200b")  # none may reach a bank or an officer as it is
TYPED = "fake licence \u202eecnecil\u202c \x1b[2J\r\n0.0.0.0 google.com\r\nzero\u200bwidth \x00 end"


def _raw_left(data: bytes) -> list[str]:
    return [c for c in RAW if c.encode() in data]


def _feeds(client: TestClient, raw_key: str) -> dict[str, bytes]:
    headers = {"Authorization": f"Bearer {raw_key}"}
    artefacts = ("blocklist.csv", "blocklist.json", "stix.json", "rails.json", "hosts.txt", "blocklist.rpz")
    responses = {name: client.get(f"/feed/v1/{name}", headers=headers) for name in artefacts}
    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(artefacts, 200)
    return {name: r.content for name, r in responses.items()}


def test_an_officers_reason_reaches_banks_written_out(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (finding,) = flagged_findings(config, ("alice", "bob"), ["typed.test"])
    engine = open_store(config)
    with Session(engine) as session:  # flagged_findings' officers cannot log in: give them a password
        for user in session.exec(select(User)):
            user.password_hash = password_hash()
            session.add(user)
        _, raw_key = keys.create(session, "HBL")
        session.commit()
    for officer, action in (("alice", "confirm"), ("bob", "approve")):
        client = TestClient(create_app(config), follow_redirects=False)
        csrf = login(client, officer)
        response = client.post(
            f"/review/findings/{finding}/decisions",
            data={"action": action, "reason": TYPED, "csrf_token": csrf},
        )
        assert response.status_code == 303, response.text

    feeds = _feeds(client, raw_key)
    assert b"typed.test" in feeds["hosts.txt"]
    for name, body in feeds.items():
        assert not _raw_left(body), (name, _raw_left(body))
    (row,) = [
        row
        for row in csv.DictReader(io.StringIO(feeds["blocklist.csv"].decode()))
        if row["value"] == "typed.test"
    ]
    # Line breaks are the officer's layout (quoted in the CSV); every other control character is named.
    assert (
        row["reason"]
        == "fake licence \\u202eecnecil\\u202c \\x1b[2J\r\n0.0.0.0 google.com\r\nzero\\u200bwidth \ufffd end"
    )
    (entry,) = json.loads(feeds["blocklist.json"])["entries"]
    assert entry["reason"].startswith("fake licence \\u202eecnecil")
    # The officers' own pages show it written out too.
    page = client.get(f"/review/findings/{finding}").text
    assert "\\u202eecnecil" in page and not [c for c in ("\x00", "\u202e", "\x1b", "\u200b") if c in page]


def test_login_names_are_recorded_bounded_and_shown_written_out(database_url: str, tmp_path: Path) -> None:
    """Anyone who reaches the login page types the name that goes into the audit trail."""
    config = seed(make_config(tmp_path, database_url=database_url)).config
    client = TestClient(create_app(config), follow_redirects=False)
    page = client.get("/review/login")
    name = "root\u202e\x1b[2J" + "x" * 300
    response = client.post(
        "/review/login", data={"username": name, "password": "wrong", "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 401, response.text[-500:]
    login(client, "root")
    audit = client.get("/review/admin/audit")
    assert audit.status_code == 200
    assert "root\\u202e\\x1b[2J" in audit.text and "\u202e" not in audit.text and "\x1b" not in audit.text


def _store_as_before(db: Path) -> None:
    """NUL in text columns and lone surrogates in JSON ones, as SQLite kept them before the store's hook."""
    surrogate = '"\\ud800 lone \\u0000 nul \u202e rlo"'
    rails = {
        "jazzcash": {
            "ads": 2,
            "merchants": 1,
            "available_fiat": 10.0,
            "median_price": 280.0,
            "pakistani": True,
        }
    }
    rails_json = json.dumps(rails).replace('"jazzcash"', surrogate)
    con = sqlite3.connect(db)
    with con:
        con.execute("update platform set name = ? where key = 'fastcoin.test'", ("Fast\x00Coin",))
        con.execute("update signal set snippet = ?, value = ?", ("Deposit\x00 PKR \u202e", "Jazz\x00Cash"))
        con.execute("update decision set reason = ?", ("stored \x00 before \u202e",))
        con.execute(
            "update finding set explanation = ?, review_note = ?",
            (f'{{"crypto_service": [{surrogate}]}}', "n\x00"),
        )
        con.execute("update auditevent set detail = ?", (f'{{"value": {surrogate}}}',))
        con.execute("update run set error_summary = ?", ("failed\x00 \x1b[2J",))
        con.execute("update pollsnapshot set rails = ?", (rails_json,))
        con.execute("update blocklistentry set reason = ?", ("listed\x00 \u202e\r\n0.0.0.0 google.com",))
    con.close()


def test_rows_stored_before_the_store_replaced_nul_and_surrogates(tmp_path: Path) -> None:
    config = make_config(tmp_path, two_person_rule=False)
    seeded = seed(config)
    engine = seeded.engine
    fast, p2p = seeded.findings["fastcoin"], seeded.findings["p2pbig"]
    with Session(engine) as session:
        _, raw_key = keys.create(session, "HBL")
        session.commit()
    client = TestClient(create_app(config), follow_redirects=False)
    csrf = login(client, "alice")
    for finding in (fast, p2p):  # published (with rails for p2pbig), audited, decided
        response = client.post(
            f"/review/findings/{finding}/decisions",
            data={"action": "confirm", "reason": "ok", "csrf_token": csrf},
        )
        assert response.status_code == 303, response.text
    _store_as_before(config.data_dir / "pkscan.sqlite3")

    for url in ("/review/", f"/review/findings/{fast}", f"/review/findings/{p2p}", "/review/runs", "/review/dashboard",
                f"/review/captures/{seeded.captures['fastcoin']}"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[-500:])
        assert not _raw_left(response.content), (url, _raw_left(response.content))
    for name, body in _feeds(client, raw_key).items():
        assert not _raw_left(body), (name, _raw_left(body))

    bundle = client.get(f"/review/findings/{fast}/bundle")
    assert bundle.status_code == 200, bundle.text[-500:]
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        manifest_bytes = archive.read("manifest.json")
    manifest = json.loads(manifest_bytes)  # valid UTF-8 JSON, the stored values read back exactly
    assert not _raw_left(manifest_bytes), _raw_left(manifest_bytes)
    assert "Jazz\x00Cash" in {s["value"] for s in manifest["signals"]}
    assert "\ud800 lone \x00 nul \u202e rlo" in {e["detail"].get("value") for e in manifest["audit"]}
    bundle_path = tmp_path / "bundle.zip"
    bundle_path.write_bytes(bundle.content)
    assert verify_bundle(bundle_path) == []
    referral = client.get(f"/review/findings/{fast}/referral")
    assert referral.status_code == 200, referral.text[-500:]


@pytest.mark.parametrize("name", ["ali\u202ece", "bob\u200b", "eve\x1b[2J", "del\x7f"])
def test_users_add_refuses_names_that_do_not_show_as_they_are(tmp_path: Path, name: str) -> None:
    """An account named "bob\u200b" looks like bob in every audit trail and decision list."""
    config = make_config(tmp_path)
    env = {
        **os.environ,
        "SCANNER_CONFIG_DIR": str(tmp_path / "config"),
        "SCANNER_DATA_DIR": str(config.data_dir),
    }
    result = subprocess.run([SCANNER, "users", "add", name, "--role", "officer", "--password-stdin"], input=PASSWORD + "\n",
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr


def test_a_captured_content_type_the_raw_view_cannot_send_as_it_is(tmp_path: Path) -> None:
    """The raw view sends a captured HTML page with the site's Content-Type: one holding a NUL (kept
    as U+FFFD by the store), a control character, or a raw NUL from before the store's hook."""
    config = make_config(tmp_path)
    seeded = seed(config)
    warc = WarcLog(config, seeded.engine)
    page = b"<html><body>buy USDT</body></html>"
    captures = [warc.write(f"http://ct{n}.test/", page, content_type=ct).id
                for n, ct in enumerate(["text/html; charset=utf-8\x00", "text/html;\x01charset=utf-8", "text/html"])]  # fmt: skip
    con = sqlite3.connect(config.data_dir / "pkscan.sqlite3")
    with con:
        con.execute(
            "update capture set content_type = ? where id = ?", ("text/html\x00; x=\u202e", captures[-1])
        )
    con.close()
    with serve(create_app(config)) as base, httpx.Client(base_url=base) as client:
        form = client.get("/review/login")
        data = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_from(form.text)}
        assert client.post("/review/login", data=data).status_code == 303
        for capture in captures:
            response = client.get(f"/review/captures/{capture}/raw")
            assert response.status_code == 200, (capture, response.text[-300:])
            assert response.content == page and response.headers["content-type"].startswith("text/html")
            assert "sandbox" in response.headers["content-security-policy"]
