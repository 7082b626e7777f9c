"""Text no database can hold, from a crawled page: NUL bytes (PostgreSQL refuses them in text) and
lone surrogates (no UTF-8 holds them) in a header, the title, the text and the inline JSON state;
a canonical link naming a host longer than any DNS name (and than its column).

On PostgreSQL a NUL in the Content-Type kept the page out of the evidence (the run was degraded) and
the canonical link's 604-character key was refused with the page's analysis; on
both back ends a lone surrogate in a page's JSON made detection raise (the page was never judged).
Now the page is captured, judged and stored with U+FFFD where they were, the same on both back ends,
and the evidence keeps the bytes as received."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from scanner.store.models import Capture, PageAnalysis, Run, Signal

from .conftest import SCANNER, Hostile, crawl_site, hostile_env


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_page_with_nul_and_lone_surrogates_is_captured_judged_and_stored_visibly(
    backend: str, hostile: Hostile, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database_url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    engine, data_dir = crawl_site(hostile, tmp_path, ["/nul"], database_url=database_url)
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        capture = session.exec(select(Capture).where(Capture.url == hostile.url("/nul"))).one()
        page = session.exec(select(PageAnalysis).where(PageAnalysis.capture_id == capture.id)).one()
        snippets = [s.snippet for s in session.exec(select(Signal).where(Signal.capture_id == capture.id))]
    assert run.status == "ok", run.error_summary
    assert capture.content_type == "text/html; charset=utf-8\ufffd"
    assert page.verdict == "flag" and page.canonical_key is None
    state = "brand: Rupee\ufffdX\ufffd"  # {"brand": "Rupee\ud800X\u0000"} in the page's inline state
    assert any(state in snippet for snippet in snippets), snippets
    assert any(state in signal["snippet"] for signal in page.analysis["signals"])

    # The evidence holds the bytes as they came, and the chain verifies over the stored rows.
    warc = b"".join(
        gzip.decompress(path.read_bytes()) for path in sorted((data_dir / "warc").rglob("*.warc.gz"))
    )
    assert b"Content-Type: text/html; charset=utf-8\x00" in warc and b"<title>Rupee\x00X" in warc
    env = hostile_env(tmp_path / "config", data_dir)
    if database_url:
        env["SCANNER_DATABASE_URL"] = database_url
    verified = subprocess.run(
        [SCANNER, "evidence", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
