"""TAXII 2.1 read by the official taxii2-client against a real uvicorn server."""

from __future__ import annotations

import httpx
import pytest
import requests
from sqlmodel import Session, select
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Collection, Server, as_pages

from blocklist import keys
from blocklist.access import flush_deliveries
from scanner.store.models import ApiKey, Delivery


class Bearer(requests.auth.AuthBase):
    def __init__(self, key: str):
        self.key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


@pytest.fixture
def bank_key(engine) -> str:
    with Session(engine) as session:
        _, raw = keys.create(session, "Standard Chartered")
        session.commit()
    return raw


def test_taxii_client_discovers_and_reads_the_collection(engine, seed, server, bank_key):
    for name in ("alpha.test", "beta.test", "gamma.test"):
        seed.platform(name)
    seed.sync()
    base = server()

    taxii = Server(f"{base}/taxii2/", user="standard-chartered", password=bank_key)
    assert taxii.title == "Test Regulator"
    root = taxii.default
    assert root.versions == ["application/taxii+json;version=2.1"]
    (collection,) = root.collections
    assert collection.title == "pkscan-blocklist" and collection.can_read and not collection.can_write

    envelope = collection.get_objects()
    objects = envelope["objects"]
    assert {o["type"] for o in objects} == {"identity", "indicator"} and len(objects) == 4
    for obj in objects:
        assert validate_instance(obj, ValidationOptions(version="2.1", strict=True)).is_valid

    # pagination with limit/next
    pages = list(as_pages(collection.get_objects, per_request=2))
    assert [len(p.get("objects", [])) for p in pages] == [2, 2]
    assert sorted(o["id"] for p in pages for o in p["objects"]) == sorted(o["id"] for o in objects)
    manifest = collection.get_manifest()
    assert {m["id"] for m in manifest["objects"]} == {o["id"] for o in objects}

    # the same with a bearer token; filters by type and id
    bearer = Collection(collection.url, auth=Bearer(bank_key))
    indicators = bearer.get_objects(type="indicator")["objects"]
    assert len(indicators) == 3
    one = bearer.get_objects(id=indicators[0]["id"])["objects"]
    assert [o["id"] for o in one] == [indicators[0]["id"]]
    assert bearer.get_object(indicators[0]["id"])["objects"][0]["pattern"] == indicators[0]["pattern"]

    flush_deliveries()
    with Session(engine) as session:
        pulls = session.exec(select(Delivery.artefact).where(Delivery.bank == "Standard Chartered")).all()
        assert pulls.count("taxii:objects") == 5 and "taxii:manifest" in pulls
        assert session.exec(select(ApiKey)).one().last_used_at is not None


def test_added_after_returns_what_changed_with_date_added_headers(engine, seed, server, bank_key):
    _, alpha_fid = seed.platform("alpha.test")
    seed.sync()
    base = server()
    auth = {"Authorization": f"Bearer {bank_key}", "Accept": "application/taxii+json;version=2.1"}
    url = f"{base}/taxii2/api/collections/pkscan-blocklist/objects/"
    first = httpx.get(url, headers=auth)
    assert first.headers["content-type"] == "application/taxii+json;version=2.1"
    last_seen = first.headers["x-taxii-date-added-last"]
    assert first.headers["x-taxii-date-added-first"] <= last_seen

    quiet = httpx.get(url, params={"added_after": last_seen}, headers=auth).json()
    assert quiet["more"] is False and "objects" not in quiet

    seed.set_status(alpha_fid, "revoked", "revoke", "licence granted")
    seed.platform("delta.test")
    seed.sync()
    changed = httpx.get(url, params={"added_after": last_seen}, headers=auth)
    objects = changed.json()["objects"]
    by_name = {o["name"]: o for o in objects}
    assert set(by_name) == {"domain alpha.test", "domain delta.test"}
    assert by_name["domain alpha.test"]["revoked"] is True
    assert changed.headers["x-taxii-date-added-first"] > last_seen


def test_taxii_rejects_missing_keys_and_foreign_media_types(server, bank_key):
    base = server()
    response = httpx.get(f"{base}/taxii2/")
    assert response.status_code == 401 and "Basic" in response.headers["www-authenticate"]
    wrong = httpx.get(f"{base}/taxii2/", auth=("bank", "pks_wrong"))
    assert wrong.status_code == 401
    xml = httpx.get(f"{base}/taxii2/", headers={"Authorization": f"Bearer {bank_key}", "Accept": "application/xml"})
    assert xml.status_code == 406
    missing = httpx.get(f"{base}/taxii2/api/collections/nope/objects/", headers={"Authorization": f"Bearer {bank_key}"})
    assert missing.status_code == 404
