"""End to end on the simulated web: crawls become findings with verifiable evidence."""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from scanner.store.models import Candidate, Capture, Finding, Platform, PlatformDomain, Run
from scanner.world import ground_truth
from tests.conftest import IN_CI, chromium_path
from tests.crawl.conftest import WARCIO, Crawled

pytestmark = pytest.mark.slow


def browser_available() -> bool:
    """Chromium renders the JavaScript-only sites: without it those checks are left out locally,
    and with CI=true its absence fails the test."""
    if chromium_path() is None:
        if IN_CI:
            pytest.fail("CI=true and Chromium is not available: apt-get install chromium")
        return False
    return True


def flagged(crawled: Crawled) -> dict[str, Finding]:
    with Session(crawled.engine) as session:
        rows = session.exec(select(Finding, Platform).where(Finding.platform_id == Platform.id)).all()
    return {platform.key: finding for finding, platform in rows if finding.verdict == "flag"}


def test_every_unlicensed_platform_is_flagged_and_no_lookalike_or_licensed_one(demo_crawl):
    truth = ground_truth()
    found = flagged(demo_crawl)
    # platforms only discovery sources name (`scanner discover`, tests/discovery) are not crawled here
    unlicensed = {
        t["platform"] for t in truth.values()
        if t["kind"] == "unlicensed" and not t["note"].startswith("discovery source only")
    }  # fmt: skip
    if not browser_available():  # JavaScript-only sites are flagged from rendered pages only
        unlicensed -= {t["platform"] for t in truth.values() if t["needs_render"]}
    assert "sindhbit.test" in unlicensed  # only discovery can find it
    assert unlicensed <= set(found), f"missed: {sorted(unlicensed - set(found))}"
    innocent = {t["platform"] for t in truth.values() if t["kind"] in ("lookalike", "licensed")}
    assert not innocent & set(found), f"wrongly flagged: {sorted(innocent & set(found))}"


def test_the_mirror_is_grouped_with_its_original(demo_crawl):
    mirrors = {host: t["mirror_of"] for host, t in ground_truth().items() if t["kind"] == "mirror"}
    assert mirrors == {"rupeex-mirror.test": "rupee-exchange.test"}
    with Session(demo_crawl.engine) as session:
        mirror = session.exec(select(Platform).where(Platform.key == "rupeex-mirror.test")).one()
        original = session.exec(select(Platform).where(Platform.key == "rupee-exchange.test")).one()
        assert mirror.mirror_of_id == original.id
        domains = session.exec(select(PlatformDomain).where(PlatformDomain.platform_id == original.id)).all()
        assert ("rupeex-mirror.test", "mirror") in {(d.value, d.kind) for d in domains}
        assert session.exec(select(Finding).where(Finding.platform_id == mirror.id)).first() is None
    listed = [
        json.loads(line) for line in demo_crawl.scanner("findings", "list", "--json").stdout.splitlines()
    ]
    row = next(r for r in listed if r["platform"] == "rupee-exchange.test")
    assert row["verdict"] == "flag" and row["mirrors"] == ["rupeex-mirror.test"]
    assert row["evidence"] > 0 and row["signals"]


def test_discovery_records_candidates_with_where_they_were_found(demo_crawl):
    with Session(demo_crawl.engine) as session:
        candidate = session.exec(select(Candidate).where(Candidate.key == "sindhbit.test")).one()
        platform = session.exec(select(Platform).where(Platform.key == "sindhbit.test")).one()
        hosted = session.exec(select(Platform).where(Platform.key == "t.me/rupeex_official")).one()
    seeds = ("http://coinatlas.test/", "http://coinchronicle.test/", "http://cryptokhabrain.test/")
    assert candidate.found_on_url.startswith(seeds)  # the directory and both news sites link to it
    assert platform.candidate and platform.found_on_url == candidate.found_on_url
    assert candidate.crawled  # discovery went on to fetch its pages within the budget
    assert hosted.kind == "hosted"


def test_a_site_crawl_turns_the_sites_channels_apps_and_whatsapp_numbers_into_leads(demo_crawl):
    from scanner.store.models import Sighting

    with Session(demo_crawl.engine) as session:
        candidates = {
            c.key: c for c in session.exec(select(Candidate).where(Candidate.source == "crawl-links"))
        }
        phones = {
            (s.value, s.platform): s for s in session.exec(select(Sighting).where(Sighting.kind == "phone"))
        }
        whatsapp = session.exec(select(Platform).where(Platform.key.startswith("wa.me"))).all()
    # RupeeX's pages link to its Telegram channel and its apps: candidates the sources and the
    # discovery crawl take up, each with the page that linked it (its mirror links the channel too,
    # and whichever page the concurrent crawl fetched first is where it was found)
    for key in ("t.me/rupeex_official", "play.google.com/store/apps/details?id=com.rupeex.app",
                "apps.apple.com/app/id6450011223"):  # fmt: skip
        found_on = candidates[key].found_on_url
        assert found_on.startswith(("http://rupee-exchange.test/", "http://rupeex-mirror.test/")), key
        assert candidates[key].capture_id is not None
    # Margalla's WhatsApp number is a contact of Margalla's platform, never a platform of its own
    margalla = phones[("+923211234567", "margalla-exchange.test")]
    assert margalla.source == "crawl-links" and margalla.url.startswith("http://margalla-exchange.test/")
    assert margalla.capture_id is not None and whatsapp == []


def test_every_exchange_is_captured_and_warcio_accepts_the_files(demo_crawl):
    with Session(demo_crawl.engine) as session:
        captures = session.exec(select(Capture)).all()
    urls = {c.url for c in captures}
    statuses = {c.status for c in captures}
    assert "http://rupee-exchange.test/robots.txt" in urls
    assert {200, 302, 500, 503} <= statuses  # redirects and errors are evidence too
    files = demo_crawl.warc_files()
    check = subprocess.run([WARCIO, "check", *files], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout
    index = subprocess.run(
        [WARCIO, "index", "-f", "warc-type,warc-target-uri", *files], capture_output=True, text=True
    )
    responses = [json.loads(line) for line in index.stdout.splitlines() if '"response"' in line]
    conversions = [json.loads(line) for line in index.stdout.splitlines() if '"conversion"' in line]
    rendered = [c for c in captures if c.method == "RENDER"]  # JavaScript-only sites rendered in Chromium
    assert len(conversions) == len(rendered) and (rendered or not browser_available())
    assert len(responses) == len(captures) - len(rendered)
    verified = demo_crawl.scanner("evidence", "verify")
    assert verified.returncode == 0 and f"{len(captures)} captures verified" in verified.stdout


def test_runs_are_recorded_and_the_misbehaving_host_is_on_the_run(demo_crawl):
    with Session(demo_crawl.engine) as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()
    assert [(r.kind, r.name, r.status, r.trigger) for r in runs] == [
        ("crawl", "site", "ok", "test"),
        ("crawl", "discovery", "ok", "test"),
    ]
    site = runs[0]
    assert site.pages > 100 and site.items > 50 and site.errors > 0
    assert site.job_dir and site.job_dir.endswith("jobs/site-all")
    badhost = [line for line in site.error_summary.splitlines() if line.startswith("badhost.test:")]
    reasons = " ".join(badhost)
    assert "HTTP 500" in reasons and "DownloadTimeoutError" in reasons, site.error_summary
    assert site.stats["pkscan/captures"] == site.pages
    # How often the downloader was full, and how many of its requests waited in middlewares: said per run.
    assert 0 <= site.stats["pkscan/downloader_full_share"] <= 1
    assert 0 <= site.stats["pkscan/downloader_waiting_mean"] <= 32
    # And how often its threads handed over (the capture thread, the detection worker's feeders wait).
    assert site.stats["pkscan/crawl_voluntary_switches"] > 0
    assert site.stats["pkscan/crawl_involuntary_switches"] >= 0


def test_altered_warc_byte_fails_verification_naming_the_record(demo_crawl, tmp_path):
    copy = demo_crawl.copy(tmp_path)
    with Session(copy.engine) as session:
        target = session.exec(select(Capture).where(Capture.url == "http://desip2p.test/")).first()
    path = copy.data_dir / target.warc_file
    data = bytearray(path.read_bytes())
    data[target.warc_offset + target.warc_length // 2] ^= 0x20
    path.write_bytes(bytes(data))
    result = copy.scanner("evidence", "verify")
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert f"capture seq {target.seq} (http://desip2p.test/)" in out
    assert f"{target.warc_file} at offset {target.warc_offset}" in out


def test_altered_capture_row_fails_verification(demo_crawl, tmp_path):
    copy = demo_crawl.copy(tmp_path)
    with copy.engine.begin() as conn:
        seq = conn.execute(text("SELECT seq FROM capture WHERE url = 'http://sindhbit.test/'")).scalar_one()
        conn.execute(text("UPDATE capture SET status = 404 WHERE seq = :seq"), {"seq": seq})
    result = copy.scanner("evidence", "verify")
    assert result.returncode == 1
    assert f"capture seq {seq} (http://sindhbit.test/)" in " ".join(result.stdout.split())
    assert "capture row altered" in result.stdout
