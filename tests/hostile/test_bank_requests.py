"""What a bank's client sends with a valid key (query parameters, TAXII cursors) is input too: it is
answered 4xx, never 500, and never costs another bank's record of what it pulled."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from sqlmodel import Session, select

from blocklist import keys
from blocklist.access import flush_deliveries
from blocklist.web import FeedContext, create_app
from scanner.store.db import open_store
from scanner.store.models import Delivery
from tests.blocklist.conftest import Seeder, make_config, serve


def test_absurd_since_and_cursor_are_refused_and_deliveries_kept(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    engine = open_store(config)
    seeder = Seeder(engine, config)
    seeder.platform("listed.test")
    seeder.sync()
    with Session(engine) as session:
        _, hostile_key = keys.create(session, "Careless Bank")
        _, hbl_key = keys.create(session, "HBL")
        session.commit()
    cursor = base64.urlsafe_b64encode(b"2026-12-07|indicator--x").decode().rstrip("=")  # no time zone
    server = serve(create_app(FeedContext.from_config(config)))
    base = next(server)
    try:
        with httpx.Client(base_url=base) as client:
            hostile = {"Authorization": f"Bearer {hostile_key}"}
            for since in (2**31, 2**63, 10**30):
                response = client.get("/feed/v1/blocklist.json", params={"since": since}, headers=hostile)
                assert response.status_code == 422, response.text
            taxii = client.get(
                "/taxii2/api/collections/pkscan-blocklist/objects/", params={"next": cursor}, headers=hostile
            )
            assert taxii.status_code == 400, taxii.text
            ok = client.get("/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {hbl_key}"})
            assert ok.status_code == 200
        flush_deliveries()
    finally:
        next(server, None)
    with Session(engine) as session:
        pulled = [(d.bank, d.artefact, d.status_code) for d in session.exec(select(Delivery))]
    assert ("HBL", "blocklist.json", 200) in pulled, pulled
