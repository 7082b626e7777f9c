"""Feeds and TAXII under attack: guessed API keys are rate limited per address; the Host header
never ends up in a URL we hand out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session
from taxii2client.v21 import Server

from blocklist import keys
from blocklist.web import FeedContext, create_app
from scanner.config import Config


def feed_config(tmp_path, extra: str = "") -> Config:
    config_dir = tmp_path / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "settings.yaml").write_text("feed:\n  failed_key_attempts_per_minute: 3\n" + extra)
    return Config(config_dir, env={"SCANNER_DATA_DIR": str(tmp_path / "data")})


def bank_key(context: FeedContext) -> str:
    with Session(context.engine) as session:
        _, raw = keys.create(session, "Meezan Bank")
        session.commit()
    return raw


def test_wrong_keys_from_one_address_get_429_with_retry_after(tmp_path):
    context = FeedContext.from_config(feed_config(tmp_path))
    raw = bank_key(context)
    app = create_app(context)
    guesser = TestClient(app, client=("203.0.113.66", 40000))
    bank = TestClient(app, client=("198.51.100.7", 40000))
    # a request without any key is not a guess
    assert guesser.get("/feed/v1/blocklist.json").status_code == 401
    for wrong in ("pks_aaaa", "pks_bbbb", "pks_cccc"):
        assert guesser.get("/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    refused = guesser.get("/feed/v1/blocklist.json", headers={"Authorization": "Bearer pks_dddd"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    # TAXII shares the limit (basic auth with the key as password), and so does a right key from that address
    assert guesser.get("/taxii2/", auth=("bank", raw)).status_code == 429
    assert guesser.get("/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {raw}"}).status_code == 429
    # the bank at its own address is not affected
    assert bank.get("/feed/v1/blocklist.json", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_taxii_discovery_never_reflects_the_host_header(tmp_path, server):
    context = FeedContext.from_config(feed_config(tmp_path))
    raw = bank_key(context)
    client = TestClient(create_app(context))
    discovery = client.get("/taxii2/", headers={"Authorization": f"Bearer {raw}", "Host": "evil.test"}).json()
    assert discovery["api_roots"] == ["/taxii2/api/"] and discovery["default"] == "/taxii2/api/"
    # a relative api root is followed by a real TAXII client
    base = server(context.config)
    taxii = Server(f"{base}/taxii2/", user="bank", password=raw)
    assert [root.url for root in taxii.api_roots] == [f"{base}/taxii2/api/"]
    assert taxii.api_roots[0].title == "pkscan blocklist"


def test_taxii_api_roots_come_from_the_configured_public_url(tmp_path):
    config = feed_config(tmp_path, "web:\n  public_url: https://feeds.pvara.example.pk\n")
    context = FeedContext.from_config(config)
    raw = bank_key(context)
    response = TestClient(create_app(context)).get("/taxii2/", headers={"Authorization": f"Bearer {raw}", "Host": "evil.test"})
    assert response.json()["api_roots"] == ["https://feeds.pvara.example.pk/taxii2/api/"]
