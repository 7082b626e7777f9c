"""Publication and every artefact format, each read back by a real parser."""

from __future__ import annotations

import csv
import io
import json

import dns.rdatatype
import dns.zone
import pytest
import stix2
from sqlmodel import Session, select
from stix2validator import ValidationOptions, validate_string

from blocklist.artefacts import build, resolve
from blocklist.formats import FORMATS
from blocklist.sign import load_signer
from blocklist.view import FeedError
from scanner.store.models import BlocklistEntry, Publication


def artefact(engine, config, name, since=None) -> bytes:
    with Session(engine) as session:
        return build(session, config, resolve(name), load_signer(config.data_dir), since).body


def seed_listing(seed):
    alpha = seed.platform("alpha.test", domains=("alpha-mirror.test", "www.alpha.test"), score=0.93)
    chan = seed.platform("t.me/alphachan", kind="hosted", score=0.8)
    app = seed.platform("play.google.com/store/apps/details?id=pk.alpha.trade", kind="app", score=0.7)
    pending = seed.platform("pending.test", status="pending-approval")
    return alpha, chan, app, pending


def test_sync_lists_domains_mirrors_urls_and_app_ids_of_published_findings_only(engine, seed):
    (alpha_pid, alpha_fid), *_ = seed_listing(seed)
    assert seed.sync() == 1
    with Session(engine) as session:
        rows = {(e.type, e.value): e for e in session.exec(select(BlocklistEntry))}
    assert set(rows) == {
        ("domain", "alpha.test"),
        ("domain", "alpha-mirror.test"),
        ("domain", "www.alpha.test"),
        ("url", "https://t.me/alphachan"),
        ("url", "https://play.google.com/store/apps/details?id=pk.alpha.trade"),
        ("app_id", "pk.alpha.trade"),
    }
    # never the whole hosting site
    assert ("domain", "t.me") not in rows and ("domain", "play.google.com") not in rows
    alpha = rows[("domain", "alpha.test")]
    assert alpha.finding_id == alpha_fid and alpha.platform_id == alpha_pid
    assert alpha.reason == "confirmed alpha.test" and alpha.confidence == 0.93
    assert len(alpha.evidence_digest) == 64 and alpha.version_added == 1
    # nothing changed: no new publication
    assert seed.sync() is None
    with Session(engine) as session:
        assert len(session.exec(select(Publication)).all()) == 1


def test_every_format_parses(engine, config, seed):
    (alpha_pid, _), *_ = seed_listing(seed)
    seed.snapshot(alpha_pid, {"JazzCash": {"ads": 12, "merchants": 5, "available_fiat": 900000.0, "median_price": 281.5},
                              "MeezanBank": {"ads": 3, "merchants": 2, "available_fiat": 150000.0, "median_price": 282.0}})
    seed.sync()

    document = json.loads(artefact(engine, config, "json"))
    assert document["version"] == 1 and document["publisher"] == "Test Regulator"
    assert {e["value"] for e in document["entries"]} >= {"alpha.test", "https://t.me/alphachan", "pk.alpha.trade"}
    assert document["removals"] == []

    rows = list(csv.DictReader(io.StringIO(artefact(engine, config, "csv").decode())))
    assert len(rows) == 6 and {r["action"] for r in rows} == {"add"}
    assert {"entry_id", "type", "value", "platform", "reason", "finding_id", "confidence", "evidence_digest"} <= set(rows[0])

    domains = artefact(engine, config, "domains").decode().split()
    assert domains == ["alpha-mirror.test", "alpha.test", "www.alpha.test"]
    hosts = [line for line in artefact(engine, config, "hosts").decode().splitlines() if not line.startswith("#")]
    assert "0.0.0.0 alpha.test" in hosts and len(hosts) == 3

    zone = dns.zone.from_text(artefact(engine, config, "rpz").decode(), origin="rpz.test.pk.", relativize=False)
    soa = zone.find_rdataset("rpz.test.pk.", dns.rdatatype.SOA)[0]
    assert soa.serial == 1
    for owner in ("alpha.test.rpz.test.pk.", "*.alpha.test.rpz.test.pk."):
        assert zone.find_rdataset(owner, dns.rdatatype.CNAME)[0].target.to_text() == "."

    stix = artefact(engine, config, "stix").decode()
    result = validate_string(stix, ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    # every object is also a valid stix2 object (stix2 checks properties and re-parses each pattern)
    assert len(stix2.parse(stix, allow_custom=False).objects) == 7
    bundle = json.loads(stix)
    identity = [o for o in bundle["objects"] if o["type"] == "identity"]
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert len(identity) == 1 and len(indicators) == 6
    patterns = {i["pattern"] for i in indicators}
    assert "[domain-name:value = 'alpha.test']" in patterns and "[url:value = 'https://t.me/alphachan']" in patterns
    assert all(i["created_by_ref"] == identity[0]["id"] and i["pattern_type"] == "stix" for i in indicators)
    assert any(ref.get("hashes") for i in indicators for ref in i["external_references"])

    rails = json.loads(artefact(engine, config, "rails"))
    assert [r["platform"] for r in rails["by_rail"]["MeezanBank"]] == ["alpha.test"]
    alpha = next(p for p in rails["platforms"] if p["platform"] == "alpha.test")
    assert alpha["rails"]["JazzCash"]["ads"] == 12


def test_revocation_is_a_removal_in_every_format(engine, config, seed):
    (_, alpha_fid), *_ = seed_listing(seed)
    seed.sync()
    stix_before = {o["name"]: o for o in json.loads(artefact(engine, config, "stix"))["objects"] if o["type"] == "indicator"}
    seed.set_status(alpha_fid, "revoked", "revoke", "licence granted by PVARA")
    assert seed.sync() == 2

    document = json.loads(artefact(engine, config, "json"))
    removed = {r["value"]: r for r in document["removals"]}
    assert set(removed) == {"alpha.test", "alpha-mirror.test", "www.alpha.test"}
    assert removed["alpha.test"]["reason"] == "licence granted by PVARA" and removed["alpha.test"]["version_removed"] == 2
    assert "alpha.test" not in {e["value"] for e in document["entries"]}

    rows = list(csv.DictReader(io.StringIO(artefact(engine, config, "csv").decode())))
    assert {r["value"] for r in rows if r["action"] == "remove"} == set(removed)

    stix = artefact(engine, config, "stix").decode()
    assert validate_string(stix, ValidationOptions(version="2.1", strict=True)).is_valid
    assert stix2.parse(stix, allow_custom=False).objects[1].revoked in (True, False)
    after = {o["name"]: o for o in json.loads(stix)["objects"] if o["type"] == "indicator"}
    revoked = after["domain alpha.test"]
    assert revoked["revoked"] is True and revoked["id"] == stix_before["domain alpha.test"]["id"]
    assert revoked["modified"] > stix_before["domain alpha.test"]["modified"]
    assert "revoked" not in after["url https://t.me/alphachan"]

    assert "alpha.test" not in artefact(engine, config, "domains").decode().split()
    assert "alpha.test" not in artefact(engine, config, "hosts").decode()
    zone = dns.zone.from_text(artefact(engine, config, "rpz").decode(), origin="rpz.test.pk.", relativize=False)
    assert zone.get_node("alpha.test.rpz.test.pk.") is None
    assert zone.find_rdataset("rpz.test.pk.", dns.rdatatype.SOA)[0].serial == 2


def test_since_returns_only_the_delta(engine, config, seed):
    seed.platform("one.test")
    seed.sync()
    _, two_fid = seed.platform("two.test")
    seed.sync()
    seed.set_status(two_fid, "revoked", "revoke", "mistaken identity")
    seed.platform("three.test")
    assert seed.sync() == 3

    delta = json.loads(artefact(engine, config, "json", since=2))
    assert [e["value"] for e in delta["entries"]] == ["three.test"]
    assert [r["value"] for r in delta["removals"]] == ["two.test"]
    assert json.loads(artefact(engine, config, "json", since=3))["entries"] == []
    rows = list(csv.DictReader(io.StringIO(artefact(engine, config, "csv", since=1).decode())))
    assert {(r["action"], r["value"]) for r in rows} == {("add", "three.test"), ("remove", "two.test")}
    stix = json.loads(artefact(engine, config, "stix", since=2))
    assert sorted(o.get("name") for o in stix["objects"] if o["type"] == "indicator") == [
        "domain three.test", "domain two.test"]
    # hosts-style formats cannot express a delta: always the full current list
    assert artefact(engine, config, "domains", since=2).decode().split() == ["one.test", "three.test"]
    with pytest.raises(FeedError, match="newer than the current feed version 3"):
        artefact(engine, config, "json", since=9)


def test_relisting_after_revocation_reuses_the_entry_id(engine, config, seed):
    _, fid = seed.platform("again.test")
    seed.sync()
    first = json.loads(artefact(engine, config, "json"))["entries"][0]["entry_id"]
    seed.set_status(fid, "revoked", "revoke", "dispute upheld")
    seed.sync()
    seed.set_status(fid, "published", "confirm", "new evidence")
    assert seed.sync() == 3
    entries = json.loads(artefact(engine, config, "json"))["entries"]
    assert [(e["entry_id"], e["version_added"]) for e in entries] == [(first, 3)]
    delta = json.loads(artefact(engine, config, "json", since=2))
    assert [e["value"] for e in delta["entries"]] == ["again.test"] and delta["removals"] == []


def test_every_format_is_registered():
    assert set(FORMATS) == {"json", "csv", "domains", "hosts", "rpz", "stix", "rails"}


def test_publication_on_both_database_backends(tmp_path, database_url):
    from scanner.config import Config
    from scanner.store.db import open_store

    from .conftest import Seeder, make_config

    base = make_config(tmp_path)
    config = Config(base.dir, env={"SCANNER_DATA_DIR": str(tmp_path / "data"), "SCANNER_DATABASE_URL": database_url})
    engine = open_store(config)
    seed = Seeder(engine, config)
    _, fid = seed.platform("alpha.test", domains=("alpha-mirror.test",))
    seed.platform("t.me/alphachan", kind="hosted")
    assert seed.sync() == 1
    seed.set_status(fid, "revoked", "revoke", "licence granted")
    assert seed.sync() == 2
    document = json.loads(artefact(engine, config, "json", since=1))
    assert sorted(r["value"] for r in document["removals"]) == ["alpha-mirror.test", "alpha.test"]
    assert document["entries"] == []


def _name_of_length(length: int) -> str:
    """A valid DNS name of exactly ``length`` characters (labels of at most 63), ending in .test."""
    labels, left = [], length - len(".test")
    while left > 64:
        labels.append("a" * 63)
        left -= 64
    labels.append("b" * left)
    return ".".join(labels) + ".test"


def test_a_domain_too_long_for_the_rpz_zone_is_said_not_dropped(engine, config, seed):
    """Owner names are at most 255 octets: under rpz.test.pk a domain of 241 characters fits, its
    `*.` does not, and one of 253 fits not at all. Both used to vanish from the zone without a word:
    a site could pick such a name to stay off banks' DNS firewalls unnoticed."""
    exact_only, neither = _name_of_length(241), _name_of_length(253)
    seed.platform("long.test", domains=(exact_only, neither))
    seed.sync()
    text = artefact(engine, config, "rpz").decode()
    zone = dns.zone.from_text(text, origin="rpz.test.pk.", relativize=False)  # a bank's parser takes it
    assert zone.find_rdataset(f"{exact_only}.rpz.test.pk.", dns.rdatatype.CNAME)[0].target.to_text() == "."
    assert zone.find_rdataset("*.long.test.rpz.test.pk.", dns.rdatatype.CNAME)
    comments = [line for line in text.splitlines() if line.startswith("; NOT LISTED: ")]
    assert len(comments) == 2
    assert any(f"{exact_only}: its subdomains are too long" in line for line in comments)
    assert any(f"{neither}: it is too long" in line for line in comments)
    assert {exact_only, neither} <= set(artefact(engine, config, "domains").decode().split())
