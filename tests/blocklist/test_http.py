"""The /feed/v1/ endpoints on a real uvicorn server: auth, ETag/304, delta sync, rate limit, deliveries."""

from __future__ import annotations

import json

import httpx
from sqlmodel import Session, col, select

from blocklist import keys
from blocklist.access import flush_deliveries
from blocklist.sign import verify
from scanner.store.models import Delivery

from .conftest import make_config


def new_key(engine, bank: str) -> str:
    with Session(engine) as session:
        _, raw = keys.create(session, bank)
        session.commit()
    return raw


def test_feed_requires_a_valid_key_but_the_public_key_is_open(engine, seed, server):
    seed.platform("alpha.test")
    seed.sync()
    base = server()
    missing = httpx.get(f"{base}/feed/v1/blocklist.json")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{base}/feed/v1/blocklist.json", headers={"Authorization": "Bearer pks_notakey"})
    assert wrong.status_code == 401
    assert httpx.get(f"{base}/feed/v1/public-key").text.startswith("-----BEGIN PUBLIC KEY-----")

    raw = new_key(engine, "Meezan Bank")
    with Session(engine) as session:
        keys.revoke(session, "Meezan Bank")
        session.commit()
    assert httpx.get(f"{base}/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_bank_gets_signed_artefacts_then_304_then_only_the_delta(engine, seed, server):
    seed.platform("alpha.test")
    seed.sync()
    base = server()
    auth = {"Authorization": f"Bearer {new_key(engine, 'HBL')}"}
    public_key = httpx.get(f"{base}/feed/v1/public-key").content

    first = httpx.get(f"{base}/feed/v1/blocklist.json", headers=auth)
    assert first.status_code == 200 and first.headers["x-feed-version"] == "1"
    assert first.headers["etag"] == f'"{first.headers["x-content-sha256"]}"'
    assert verify(first.content, first.headers["x-signature-ed25519"], public_key)
    sig = httpx.get(f"{base}/feed/v1/blocklist.json.sig", headers=auth).text
    assert verify(first.content, sig, public_key)
    assert not verify(first.content.replace(b"alpha", b"alphb"), sig, public_key)

    again = httpx.get(f"{base}/feed/v1/blocklist.json", headers={**auth, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    _, fid = seed.platform("beta.test")
    seed.sync()
    seed.set_status(fid, "revoked", "revoke", "licensed after all")
    seed.platform("gamma.test")
    seed.sync()
    changed = httpx.get(f"{base}/feed/v1/blocklist.json", headers={**auth, "If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["x-feed-version"] == "3"

    delta = httpx.get(f"{base}/feed/v1/blocklist.json", params={"since": 1}, headers=auth).json()
    assert [e["value"] for e in delta["entries"]] == ["gamma.test"]
    assert [r["value"] for r in delta["removals"]] == ["beta.test"]
    assert httpx.get(f"{base}/feed/v1/blocklist.json", params={"since": 3}, headers=auth).json()["entries"] == []
    bad = httpx.get(f"{base}/feed/v1/blocklist.json", params={"since": 7}, headers=auth)
    assert bad.status_code == 400 and "newer than the current feed version 3" in bad.text

    rpz = httpx.get(f"{base}/feed/v1/blocklist.rpz", headers=auth)
    assert "*.gamma.test CNAME ." in rpz.text and "beta.test" not in rpz.text
    history = httpx.get(f"{base}/feed/v1/versions", headers=auth).json()
    assert history["current"] == 3 and [v["version"] for v in history["versions"]] == [1, 2, 3]
    assert httpx.get(f"{base}/feed/v1/nothing.txt", headers=auth).status_code == 404

    flush_deliveries()
    with Session(engine) as session:
        log = [(d.bank, d.artefact, d.version, d.since, d.status_code)
               for d in session.exec(select(Delivery).order_by(col(Delivery.id)))]
    assert log[:4] == [
        ("HBL", "blocklist.json", 1, None, 200),
        ("HBL", "blocklist.json.sig", 1, None, 200),
        ("HBL", "blocklist.json", 1, None, 304),
        ("HBL", "blocklist.json", 3, None, 200),
    ]
    assert ("HBL", "blocklist.json", 3, 1, 200) in log and ("HBL", "blocklist.json", None, 7, 400) in log


def test_rate_limit_per_key(tmp_path, engine, seed, server):
    seed.platform("alpha.test")
    seed.sync()
    base = server(make_config(tmp_path, requests_per_minute=3))
    one = {"Authorization": f"Bearer {new_key(engine, 'UBL')}"}
    other = {"Authorization": f"Bearer {new_key(engine, 'MCB')}"}
    codes = [httpx.get(f"{base}/feed/v1/domains.txt", headers=one).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = httpx.get(f"{base}/feed/v1/domains.txt", headers=one)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert httpx.get(f"{base}/feed/v1/domains.txt", headers=other).status_code == 200
    flush_deliveries()
    with Session(engine) as session:
        assert [d.status_code for d in session.exec(select(Delivery).where(Delivery.bank == "UBL"))].count(429) == 2


def test_raw_keys_are_never_stored(tmp_path, engine, config):
    raw = new_key(engine, "Allied Bank")
    database = (config.data_dir / "pkscan.sqlite3")
    engine.dispose()
    stored = b"".join(p.read_bytes() for p in database.parent.glob("pkscan.sqlite3*"))
    assert raw.encode() not in stored and raw[12:].encode() not in stored
    with Session(engine) as session:
        assert keys.authenticate(session, raw).bank == "Allied Bank"
        assert keys.authenticate(session, raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None


def test_stix_and_rails_over_http(engine, seed, server):
    pid, _ = seed.platform("alpha.test")
    seed.snapshot(pid, {"Raast": {"ads": 4, "merchants": 4, "available_fiat": 10.0, "median_price": 280.0}})
    seed.sync()
    base = server()
    auth = {"Authorization": f"Bearer {new_key(engine, 'Bank Alfalah')}"}
    stix = httpx.get(f"{base}/feed/v1/stix.json", headers=auth)
    assert stix.headers["content-type"].startswith("application/stix+json")
    assert json.loads(stix.content)["type"] == "bundle"
    rails = httpx.get(f"{base}/feed/v1/rails.json", headers=auth).json()
    assert rails["by_rail"]["Raast"][0]["platform"] == "alpha.test"
