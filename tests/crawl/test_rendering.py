"""Crawls render JavaScript-only pages in Chromium: KhyberCoin (USDT/PKR and JazzCash only after its
script ran) is flagged from its rendered DOM, with a screenshot in its WARC that `evidence verify`
checks and a tampered screenshot byte detected; the JavaScript-only shop stays clear; a page that
never finishes rendering ends at the time budget while the crawl goes on. Screenshots of the
rendered pages are copied to test-results/."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from warcio.archiveiterator import ArchiveIterator

from scanner.evidence import read_exchange, read_screenshot
from scanner.store.models import Capture, Finding, PageAnalysis, Platform, Run, Signal
from tests.conftest import REPO_ROOT, chromium_path, require
from tests.crawl.conftest import WARCIO, Crawled, make_config, run

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RESULTS = REPO_ROOT / "test-results"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rendered(world, tmp_path_factory: pytest.TempPathFactory) -> Crawled:  # type: ignore[no-untyped-def]
    require("Chromium", chromium_path() is not None, "apt-get install chromium")
    base = tmp_path_factory.mktemp("render-crawl")
    forever = {"name": "never-rendered", "seeds": ["http://badhost.test/js/forever"], "max_depth": 0,
               "max_pages": 1, "render": "auto"}  # fmt: skip
    download = {
        "name": "get-app",
        "seeds": ["http://badhost.test/js/download"],
        "max_depth": 0,
        "max_pages": 1,
    }
    config = make_config(base / "config", extra_sites=[forever, download])
    settings = config / "settings.yaml"
    settings.write_text(settings.read_text() + "render: {timeout_seconds: 8, settle_seconds: 2}\n")
    crawled = Crawled(world, config, base / "data")
    for target in ("khyber-coin", "pindi-gadgets", "never-rendered", "get-app"):
        result = crawled.scanner("crawl", "site", "--target", target)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return crawled


def finding(crawled: Crawled, key: str) -> Finding:
    with Session(crawled.engine) as session:
        platform = session.exec(select(Platform).where(Platform.key == key)).one()
        return session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()


def renders(crawled: Crawled, host: str) -> list[Capture]:
    with Session(crawled.engine) as session:
        return list(
            session.exec(
                select(Capture).where(
                    Capture.method == "RENDER", col(Capture.url).startswith(f"http://{host}/")
                )
            )
        )


def test_the_javascript_only_exchange_is_flagged_from_its_rendered_dom(rendered: Crawled) -> None:
    found = finding(rendered, "khybercoin.test")
    assert found.verdict == "flag"
    home = [c for c in renders(rendered, "khybercoin.test") if c.url == "http://khybercoin.test/"]
    assert len(home) == 1
    with Session(rendered.engine) as session:
        raw = session.exec(
            select(Capture).where(Capture.url == "http://khybercoin.test/", Capture.method == "GET")
        ).one()
        pages = {
            p.url: p
            for p in session.exec(
                select(PageAnalysis).where(col(PageAnalysis.url).startswith("http://khybercoin.test/"))
            )
        }
        signals = session.exec(select(Signal).where(Signal.finding_id == found.id)).all()
    # The shell alone says nothing; the rendered DOM (its own document) says it all.
    assert pages["http://khybercoin.test/"].verdict == "clear"
    assert pages["http://khybercoin.test/#pkscan-rendered"].verdict == "flag"
    assert pages["http://khybercoin.test/#pkscan-rendered"].capture_id == home[0].id
    kinds = {(s.kind, s.value) for s in signals if s.capture_id == home[0].id}
    assert ("payment_rail", "JazzCash") in kinds and any(k == "trading_pair" for k, _ in kinds), kinds
    render_ids = {c.id for c in renders(rendered, "khybercoin.test")}
    assert {s.capture_id for s in signals} <= render_ids  # every signal points at a rendered capture
    shell = read_exchange(rendered.data_dir, raw).body
    assert b'<div id="app"></div>' in shell and b"JazzCash" not in shell and b"USDT" not in shell
    png = read_screenshot(rendered.data_dir, home[0])
    assert png is not None and png.startswith(PNG_MAGIC)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "render-khybercoin.png").write_bytes(png)


def test_the_rendered_capture_refers_to_the_response_and_its_sub_requests_are_evidence(
    rendered: Crawled,
) -> None:
    with Session(rendered.engine) as session:
        urls = set(
            session.exec(select(Capture.url).where(col(Capture.url).startswith("http://khybercoin.test/")))
        )
    # The app's script and the view it fetched went through the egress client and were recorded.
    assert "http://khybercoin.test/static/app.js" in urls
    assert "http://khybercoin.test/api/view?path=%2F" in urls
    index = run([WARCIO, "index", "-f", "warc-type,warc-target-uri,warc-refers-to,warc-concurrent-to,content-type",
                 *rendered.warc_files()], rendered.env)  # fmt: skip
    records = [json.loads(line) for line in index.stdout.splitlines()]
    shots = [r for r in records if r.get("warc-type") == "resource"]
    conversions = {r.get("warc-target-uri") for r in records if r.get("warc-type") == "conversion"}
    assert "urn:view:http://khybercoin.test/" in {s["warc-target-uri"] for s in shots}
    assert all(s.get("warc-refers-to") and s.get("warc-concurrent-to") for s in shots)
    assert "http://khybercoin.test/" in conversions
    check = run([WARCIO, "check", *rendered.warc_files()], rendered.env)
    assert check.returncode == 0, check.stdout


def test_the_javascript_only_shop_is_rendered_and_stays_clear(rendered: Crawled) -> None:
    shots = renders(rendered, "pindigadgets.test")
    assert shots
    assert finding(rendered, "pindigadgets.test").verdict == "clear"
    home = next(c for c in shots if c.url == "http://pindigadgets.test/")
    assert (
        b"JazzCash" in read_exchange(rendered.data_dir, home).body
    )  # rendered, and still not a crypto service
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "render-pindigadgets.png").write_bytes(read_screenshot(rendered.data_dir, home) or b"")


def test_a_page_that_never_finishes_rendering_ends_at_the_budget_and_the_page_is_kept(
    rendered: Crawled,
) -> None:
    assert [c.url for c in renders(rendered, "badhost.test")] == ["http://badhost.test/js/download"]
    with Session(rendered.engine) as session:
        runs = {r.name: r for r in session.exec(select(Run))}
        raw = session.exec(select(Capture).where(Capture.url == "http://badhost.test/js/forever")).all()
    assert len(raw) == 1 and raw[0].status == 200
    never = runs["never-rendered"]
    assert never.status == "ok", never.error_summary
    assert "badhost.test: 1x render timeout" in never.error_summary
    assert runs["khyber-coin"].status == "ok", runs["khyber-coin"].error_summary


def test_a_page_navigating_to_a_download_saves_nothing_and_stays_rendered(rendered: Crawled) -> None:
    with Session(rendered.engine) as session:
        run_ = session.exec(select(Run).where(Run.name == "get-app")).one()
        shot = session.exec(
            select(Capture).where(
                Capture.method == "RENDER", Capture.url == "http://badhost.test/js/download"
            )
        ).one()
    assert run_.stats.get("pkscan/render/refused/download") == 1, run_.stats
    assert shot.final_url == "http://badhost.test/js/download"  # the page did not navigate away
    assert not list(Path(rendered.data_dir).rglob("app.apk"))


def test_evidence_verify_checks_the_screenshots_and_finds_a_tampered_byte(
    rendered: Crawled, tmp_path: Path
) -> None:
    assert rendered.scanner("evidence", "verify").returncode == 0
    copy = rendered.copy(tmp_path)
    shot = next(c for c in renders(copy, "khybercoin.test") if c.url == "http://khybercoin.test/")
    path = copy.data_dir / shot.warc_file
    data = bytearray(path.read_bytes())
    data[shot.warc_offset + shot.warc_length - 40] ^= 0x01  # inside the screenshot's gzip member
    path.write_bytes(bytes(data))
    result = copy.scanner("evidence", "verify")
    assert result.returncode == 1
    assert f"capture seq {shot.seq} (http://khybercoin.test/)" in result.stdout + result.stderr


def test_the_evidence_bundle_carries_the_screenshot_and_verifies_offline(
    rendered: Crawled, tmp_path: Path
) -> None:
    from scanner.config import Config
    from scanner.review.bundle import build_bundle

    config = Config(rendered.config_dir, env=rendered.env)
    found = finding(rendered, "khybercoin.test")
    with Session(rendered.engine) as session:
        path = build_bundle(session, config, found.id or 0, tmp_path / "khybercoin.zip")
    with zipfile.ZipFile(path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        warc = bundle.read(next(n for n in bundle.namelist() if n.endswith(".warc.gz")))
    shots = [c for c in manifest["captures"] if c.get("chained", {}).get("screenshot_sha256")]
    assert shots, "no rendered capture in the bundle"
    types = {r.rec_type for r in ArchiveIterator(io.BytesIO(warc))}
    assert {"conversion", "resource", "response"} <= types
    urls = {c["url"] for c in manifest["captures"]}
    assert "http://khybercoin.test/static/app.js" in urls  # how the page was built goes with it
    verified = rendered.scanner("evidence", "verify", "--bundle", str(path))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_without_chromium_the_crawl_says_which_pages_were_not_rendered(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path / "config")
    settings = config / "settings.yaml"
    settings.write_text(settings.read_text() + f"render: {{chromium: {tmp_path / 'no-chromium'}}}\n")
    crawled = Crawled(world, config, tmp_path / "data")
    result = crawled.scanner("crawl", "site", "--target", "khyber-coin")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    with Session(crawled.engine) as session:
        run_ = session.exec(select(Run)).one()
    assert "no-chromium" in run_.stats["pkscan/render/unavailable"]
    assert "khybercoin.test: " in run_.error_summary and "x render unavailable" in run_.error_summary
    assert renders(crawled, "khybercoin.test") == []
    assert finding(crawled, "khybercoin.test").verdict == "clear"  # the shell alone shows nothing
