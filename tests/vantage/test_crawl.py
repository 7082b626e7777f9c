"""A geo-gated exchange crawled by real Scrapy crawls, directly and through the simulated Pakistani exit:
what each capture records, what the finding says, and what the officer's finding page shows."""

from __future__ import annotations

import gzip
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.config import Config
from scanner.review.bundle import build_bundle
from scanner.store.db import session_scope
from scanner.store.models import Capture, Finding, PageAnalysis, Platform, User
from scanner.web import create_app
from scanner.world import World
from tests.conftest import chromium_path, require
from tests.crawl.conftest import WARCIO, Crawled, make_config
from tests.web.reviewkit import login, password_hash

GEO = "chenab-exchange.test"


def crawl_chenab(world: World, base: Path, **site: object) -> Crawled:
    """``scanner crawl site --target chenab-exchange`` with the demo config (and ``site`` changes)."""
    crawled = Crawled(
        world, make_config(base / "config", site_overrides={"chenab-exchange": site}), base / "data"
    )
    result = crawled.scanner("crawl", "site", "--target", "chenab-exchange")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return crawled


def finding_of(crawled: Crawled) -> Finding:
    with Session(crawled.engine) as session:
        return session.exec(select(Finding).join(Platform).where(Platform.key == GEO)).one()


@pytest.fixture(scope="module")
def both(world: World, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """As the demo crawls it: from direct and from pk."""
    return crawl_chenab(world, tmp_path_factory.mktemp("both"))


def test_each_capture_records_its_vantage_point_in_warc_and_database(both: Crawled):
    with Session(both.engine) as session:
        pages = {
            (c.url, c.vantage) for c in session.exec(select(Capture)) if not c.url.endswith("robots.txt")
        }
    paths = [f"http://{GEO}{p}" for p in ("/", "/deposit", "/markets")]
    assert pages == {(url, vantage) for url in paths for vantage in (None, "pk")}
    records = b"".join(gzip.decompress(Path(f).read_bytes()) for f in both.warc_files())
    assert records.count(b"WARC-Pkscan-Vantage: pk\r\n") == 2 * 3  # response and request of each pk page
    assert records.count(b"WARC-Pkscan-Vantage-Country: PK\r\n") == 2 * 3
    verified = both.scanner("evidence", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for path in both.warc_files():
        checked = subprocess.run([WARCIO, "check", path], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_geo_gated_exchange_is_flagged_from_pakistan_only(both: Crawled, world: World, tmp_path: Path):
    finding = finding_of(both)
    assert finding.verdict == "flag" and finding.targets_pakistan
    with Session(both.engine) as session:
        verdicts = {(p.url, p.vantage): p.verdict for p in session.exec(select(PageAnalysis))}
    assert verdicts[(f"http://{GEO}/", "pk")] == "flag"
    assert verdicts[(f"http://{GEO}/", None)] == "clear"  # the same URL, another current document

    direct = crawl_chenab(world, tmp_path, vantage="direct")  # without the vantage point
    assert finding_of(direct).verdict == "clear"
    assert not finding_of(direct).targets_pakistan


def test_a_site_crawled_from_pakistan_only_asks_for_robots_txt_from_there_too(world: World, tmp_path: Path):
    pk_only = crawl_chenab(world, tmp_path, vantage="pk")
    with Session(pk_only.engine) as session:
        captures = {c.url: c.vantage for c in session.exec(select(Capture))}
    assert captures[f"http://{GEO}/robots.txt"] == "pk"
    assert set(captures.values()) == {"pk"}
    assert finding_of(pk_only).verdict == "flag"


def test_a_vantage_proxy_named_by_host_name_is_resolved_as_a_proxy(world: World, tmp_path: Path):
    # pk-exit.test answers 127.0.0.1: allowed for proxies (proxy_networks), refused for any target.
    config_dir = make_config(tmp_path / "config", site_overrides={"chenab-exchange": {"vantage": "pk"}})
    settings = yaml.safe_load((config_dir / "settings.yaml").read_text())
    settings["egress"]["static_hosts"] = {"pk-exit.test": ["127.0.0.1"]}
    (config_dir / "settings.yaml").write_text(yaml.safe_dump(settings))
    crawled = Crawled(world, config_dir, tmp_path / "data")
    crawled.env["PKSCAN_DEMO_PK_EXIT"] = f"http://pk-exit.test:{world.pk_exit.port}"

    result = crawled.scanner("crawl", "site", "--target", "chenab-exchange")

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert finding_of(crawled).verdict == "flag"


def test_a_changed_vantage_row_breaks_the_chain(both: Crawled, tmp_path: Path):
    altered = both.copy(tmp_path)
    with session_scope(altered.engine) as session:
        capture = session.exec(select(Capture).where(Capture.vantage == "pk")).first()
        assert capture is not None
        capture.vantage = None  # claim it was fetched directly
        session.add(capture)
    verified = altered.scanner("evidence", "verify")
    assert verified.returncode == 1
    assert "capture row altered" in verified.stdout + verified.stderr


def test_the_finding_page_shows_what_each_vantage_point_saw(both: Crawled):
    config = Config(both.config_dir, env={"SCANNER_DATA_DIR": str(both.data_dir)})
    with session_scope(both.engine) as session:
        session.add(User(username="alice", password_hash=password_hash(), role="officer"))
    finding = finding_of(both)
    client = TestClient(create_app(config), base_url="http://localhost", follow_redirects=False)
    login(client, "alice")

    page = client.get(f"/review/findings/{finding.id}")

    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert 'id="vantages"' in html and "Seen from 2 vantage points" in html
    direct = html.split('data-vantage="direct"')[1].split("</tr>")[0]
    pk = html.split('data-vantage="pk"')[1].split("</tr>")[0]
    for shown in ("JazzCash", "Easypaisa", "USDT/PKR", "pkr market", "payment rail"):
        assert shown in pk, shown
        assert shown not in direct, shown
    assert '<td class="num">3</td><td class="num">3</td>' in pk  # 3 pages, all flagged
    assert '<td class="num">3</td><td class="num">0</td>' in direct
    assert "ETH/USDT" in direct  # what only the rest of the world is shown
    with Session(both.engine) as session:
        pk_capture = session.exec(select(Capture).where(Capture.vantage == "pk")).first()
    assert pk_capture is not None
    capture_page = client.get(f"/review/captures/{pk_capture.id}")
    assert '<dd id="vantage">pk</dd>' in capture_page.text


def test_the_evidence_bundle_says_where_each_capture_was_seen_from(both: Crawled, tmp_path: Path):
    config = Config(both.config_dir, env={"SCANNER_DATA_DIR": str(both.data_dir)})
    bundle = tmp_path / "bundle.zip"
    with Session(both.engine) as session:
        build_bundle(session, config, finding_of(both).id or 0, bundle)
    manifest = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    pages = {(c["url"], c["vantage"]) for c in manifest["captures"] if c["method"] == "GET"}
    assert (f"http://{GEO}/", "pk") in pages and (f"http://{GEO}/", None) in pages
    assert all(c["chained"].get("vantage") == c["vantage"] for c in manifest["captures"])
    verified = both.scanner("evidence", "verify", "--bundle", str(bundle))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_reverification_fetches_each_page_again_from_the_vantage_point_it_was_seen_from(
    both: Crawled, tmp_path: Path
):
    checked = both.copy(tmp_path)
    finding = finding_of(checked)
    with session_scope(checked.engine) as session:
        session.add(User(username="bilal", password_hash=password_hash(), role="officer"))
    decided = checked.scanner(
        "findings",
        "decide",
        str(finding.id),
        "confirm",
        "--reason",
        "PKR and JazzCash from pk",
        "--by",
        "bilal",
    )
    assert decided.returncode == 0, decided.stdout + decided.stderr

    reverified = checked.scanner("reverify")

    assert reverified.returncode == 0, reverified.stdout + reverified.stderr
    with Session(checked.engine) as session:
        run = max(c.run_id or 0 for c in session.exec(select(Capture)))
        captures = session.exec(select(Capture).where(Capture.run_id == run))
        pages = {(c.url, c.vantage) for c in captures if not c.url.endswith("/robots.txt")}
    paths = [f"http://{GEO}{p}" for p in ("/", "/deposit", "/markets")]
    assert pages == {(url, vantage) for url in paths for vantage in (None, "pk")}
    assert finding_of(checked).verdict == "flag"  # unchanged: the same pages, each from its vantage point


def test_a_page_rendered_from_a_vantage_point_records_it(world: World, tmp_path: Path):
    require("Chromium", chromium_path() is not None, "apt-get install chromium")
    crawled = crawl_chenab(world, tmp_path, vantage="pk", render="always")
    with Session(crawled.engine) as session:
        renders = list(session.exec(select(Capture).where(Capture.method == "RENDER")))
    assert len(renders) == 3 and {r.vantage for r in renders} == {"pk"}
    verified = crawled.scanner("evidence", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
