"""Reading every bank feed format back with a real parser, for the dispute tests (TestClient and
the browser tests' httpx client alike: both are httpx clients)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import dns.rdatatype
import dns.zone
import httpx
import stix2
from sqlmodel import Session
from stix2validator import ValidationOptions, validate_instance, validate_string

from blocklist import keys
from scanner.review.decisions import record
from tests.web.reviewkit import Seeded

FEEDS = ("blocklist.json", "blocklist.csv", "domains.txt", "hosts.txt", "blocklist.rpz", "stix.json")
COLLECTION = "/taxii2/api/collections/pkscan-blocklist/objects/"
STRICT = ValidationOptions(version="2.1", strict=True)


def publish_with_bank_key(seeded: Seeded, two_person_rule: bool = True) -> str:
    """fastcoin.test (and its mirror) published by alice and bob; a bank API key for the feeds."""
    finding = seeded.findings["fastcoin"]
    record(seeded.engine, seeded.config, finding, "confirm", "takes PKR via JazzCash", "alice")
    if two_person_rule:
        record(seeded.engine, seeded.config, finding, "approve", "agreed", "bob")
    with Session(seeded.engine) as session:
        _row, raw = keys.create(session, "Test Bank")
        session.commit()
    return raw


def feed_text(client: httpx.Client, key: str, name: str, **params: int) -> str:
    response = client.get(f"/feed/v1/{name}", headers={"Authorization": f"Bearer {key}"}, params=params)
    assert response.status_code == 200, (name, response.text)
    return response.text


def raise_dispute(
    client: httpx.Client, key: str, entry: str, reason: str = "licensed since 2026-01"
) -> dict[str, Any]:
    response = client.post(
        "/feed/v1/disputes",
        headers={"Authorization": f"Bearer {key}"},
        json={"entry": entry, "reason": reason},
    )
    assert response.status_code == 201, response.text
    return response.json()


def json_entry(client: httpx.Client, key: str, value: str, **params: int) -> dict[str, Any]:
    """``value``'s entry or removal in blocklist.json."""
    document = json.loads(feed_text(client, key, "blocklist.json", **params))
    found = [e for e in document["entries"] + document["removals"] if e["value"] == value]
    assert found, (value, document)
    return found[0]


def indicator(client: httpx.Client, key: str, value: str) -> dict[str, Any]:
    """The domain's STIX indicator; the bundle passes stix2-validator (strict) and stix2 without custom."""
    text = feed_text(client, key, "stix.json")
    result = validate_string(text, STRICT)
    assert result.is_valid, [str(e) for e in result.errors]
    stix2.parse(text, allow_custom=False)
    return next(o for o in json.loads(text)["objects"] if o.get("name") == f"domain {value}")


def listed_everywhere(client: httpx.Client, key: str, value: str) -> bool:
    return all(value in feed_text(client, key, name) for name in FEEDS)


def assert_removed_everywhere(client: httpx.Client, key: str, values: set[str]) -> dict[str, dict[str, Any]]:
    """``values`` left every format: removals in JSON, CSV, STIX and TAXII; absent from the lists."""
    document = json.loads(feed_text(client, key, "blocklist.json"))
    assert not values & {e["value"] for e in document["entries"]}
    removed = {r["value"]: r for r in document["removals"]}
    assert values <= set(removed)
    rows = list(csv.DictReader(io.StringIO(feed_text(client, key, "blocklist.csv"))))
    assert values <= {r["value"] for r in rows if r["action"] == "remove"}
    for name in ("domains.txt", "hosts.txt"):
        assert not [v for v in values if v in feed_text(client, key, name)], name
    zone = dns.zone.from_text(
        feed_text(client, key, "blocklist.rpz"), origin="rpz.pkscan.local.", relativize=False
    )
    assert not [n for n in zone.nodes for v in values if v in n.to_text()]
    assert zone.find_rdataset("rpz.pkscan.local.", dns.rdatatype.SOA)[0].serial == document["version"]
    taxii = client.get(
        COLLECTION, headers={"Authorization": f"Bearer {key}", "Accept": "application/taxii+json;version=2.1"}
    )
    assert taxii.status_code == 200, taxii.text
    objects = {o.get("name"): o for o in taxii.json()["objects"]}
    for value in values:
        assert indicator(client, key, value)["revoked"] is True
        assert objects[f"domain {value}"]["revoked"] is True
        assert validate_instance(objects[f"domain {value}"], STRICT).is_valid
    return removed
