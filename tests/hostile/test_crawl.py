"""Discovery and site crawls of the hostile web: links and redirects to local files and internal
addresses are refused and recorded; the canary never sees a request; the hostile page is kept and flagged."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from scanner.store.db import make_engine, upgrade
from scanner.store.models import Candidate, Capture, Finding, PageAnalysis, Platform, Run

from .conftest import (
    SCANNER,
    Canary,
    Hostile,
    Mismatched,
    Silent,
    crawl_site,
    hostile_env,
    hostile_links,
    write_config,
)

LEAKS = (b"SECRET-", b"CANARY-SECRET", b"root:x:0:0")
INTERNAL_HOSTS = ("127.", "localhost", "[::", "2130706433", "0x7f", "0177", "169.254.", "10.0.0.1", "192.168.",
                  "100.64.", "rebind.hostile.test")  # fmt: skip


def _crawl(tmp_path: Path, hostile: Hostile, spider: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    seed = hostile.url("/")
    # Deliberately broad: the offsite filter must not be what saves us. (Scrapy's LinkExtractor
    # compares allow_domains with host:port, the offsite filter with the host.)
    hosts = {urlsplit(link).hostname for link in hostile_links(hostile) if "://" in link} - {None}
    netlocs = {urlsplit(link).netloc for link in hostile_links(hostile) if "://" in link}
    allowed = sorted(hosts | netlocs | {"hostile.test", urlsplit(seed).netloc})
    targets = {
        "sites": [{"name": "hostile", "seeds": [seed], "max_depth": 2, "max_pages": 60, "allowed_domains": allowed}],
        "discovery": {"seeds": [seed], "max_new_domains": 50, "pages_per_domain": 40, "max_pages": 80},
    }  # fmt: skip
    config_dir = write_config(tmp_path / "config", targets)
    data_dir = tmp_path / "data"
    result = subprocess.run([SCANNER, "crawl", spider], env=hostile_env(config_dir, data_dir), capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    return result, data_dir


@pytest.mark.parametrize("spider", ["discovery", "site"])
def test_crawl_refuses_files_and_internal_addresses_and_records_why(
    spider: str, hostile: Hostile, canary: Canary, tmp_path: Path
) -> None:
    before = len(canary.hits)
    result, data_dir = _crawl(tmp_path, hostile, spider)
    assert result.returncode == 0, result.stderr[-3000:]
    assert canary.hits[before:] == []

    # Nothing from a file or an internal address in the evidence ...
    warcs = sorted((data_dir / "warc").rglob("*.warc.gz"))
    assert warcs
    for warc in warcs:
        content = gzip.decompress(warc.read_bytes())
        assert not any(leak in content for leak in LEAKS), warc
    assert not any(leak in (data_dir / "pkscan.sqlite3").read_bytes() for leak in LEAKS)

    engine = make_engine(f"sqlite:///{data_dir / 'pkscan.sqlite3'}")
    upgrade(engine)
    with Session(engine) as session:
        captured = [c.url for c in session.exec(select(Capture))]
        candidates = [c.url for c in session.exec(select(Candidate))]
        platforms = {p.key: p for p in session.exec(select(Platform))}
        run = session.exec(select(Run)).one()
        findings = {f.platform_id: f for f in session.exec(select(Finding))}
    # ... nor in the database (captures, candidate platforms).
    for url in captured + candidates:
        assert not url.startswith(("file:", "ftp:")), url
        assert not any(f"//{h}" in url for h in INTERNAL_HOSTS), url
    assert all(not key.startswith(("127.", "10.", "192.168.", "169.254.", "localhost")) for key in platforms)

    # The hostile exchange itself is captured (the page and the redirects it answered) and flagged.
    assert hostile.url("/") in captured
    assert hostile.url("/go/loopback") in captured and hostile.url("/go/rebind") in captured
    assert findings[platforms["hostile.test"].id].verdict == "flag"

    # The server sending one byte a second was cut off at the deadline (the crawl went on and ended ok).
    assert hostile.url("/slow") not in captured
    assert any(line.startswith("www.hostile.test: ") and "Timeout" in line for line in run.error_summary.splitlines())

    # Each refusal is on the run with its reason.
    reasons = {k.rsplit("/", 1)[1] for k in run.stats if k.startswith("pkscan/egress_refused/")}
    assert {"scheme", "loopback", "link-local", "private", "shared"} <= reasons
    assert run.status == "ok"
    lines = {(line.split(":")[0], line.rsplit(": ", 1)[-1]) for line in run.error_summary.splitlines()}
    for host, reason in [("127.0.0.1", "loopback"), ("2130706433", "loopback"), ("0x7f.1", "loopback"),
                         ("localhost", "loopback"), ("169.254.169.254", "link-local"), ("file", "scheme"),
                         ("192.168.1.1", "private"),
                         ("rebind.hostile.test", "loopback")]:  # the name resolving to 127.0.0.1, at connect time
        assert (host, reason) in lines, run.error_summary  # fmt: skip


def test_a_tls_handshake_that_never_completes_fails_its_page_at_the_deadline(
    hostile: Hostile, silent: Silent, tmp_path: Path
) -> None:
    """Scrapy's download timeout (the total deadline) covers the handshake: the page fails with a
    timeout, the rest of the crawl is captured and the run is ok."""
    engine, _ = crawl_site(hostile, tmp_path, ["/clear", f"https://www.hostile.test:{silent.port}/"])
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captured = [c.url for c in session.exec(select(Capture))]
    assert hostile.url("/clear") in captured and run.status == "ok", run.error_summary
    assert "www.hostile.test: 1x DownloadTimeoutError" in run.error_summary.splitlines(), run.error_summary


def test_a_site_whose_certificate_names_another_host_is_still_captured_and_judged(
    hostile: Hostile, mismatched: Mismatched, tmp_path: Path
) -> None:
    """The crawl does not verify certificates (Scrapy's default): a site with a bad certificate is
    evidence like any other (what a visitor who clicks through sees)."""
    engine, _ = crawl_site(hostile, tmp_path, [mismatched.url("/after-html")])
    with Session(engine) as session:
        capture = session.exec(select(Capture).where(Capture.url == mismatched.url("/after-html"))).one()
        analysis = session.exec(select(PageAnalysis).where(PageAnalysis.capture_id == capture.id)).one()
    assert analysis.verdict == "flag"
