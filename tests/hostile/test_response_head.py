"""Response heads a browser would not accept: the crawl refuses each with a reason that names what was
wrong, keeps going, and still captures a page whose only fault is one header name that is not a token."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from scanner.crawl.download import MAX_RESPONSE_HEAD_BYTES, MAX_RESPONSE_HEADER_FIELDS
from scanner.evidence import read_exchange
from scanner.store.models import Capture, Finding, Platform, Run

from .conftest import Hostile, crawl_site

HEADS = ("/head/folded", "/head/many", "/head/long-line", "/head/bad-name", "/head/status-huge",
         "/head/status-negative", "/clear")  # fmt: skip


def test_oversized_response_heads_fail_their_page_with_a_reason_and_the_crawl_goes_on(
    hostile: Hostile, tmp_path: Path
) -> None:
    engine, data_dir = crawl_site(hostile, tmp_path, list(HEADS))
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        captures = {c.url: c for c in session.exec(select(Capture))}
        platform = session.exec(select(Platform).where(Platform.key == "hostile.test")).one()
        finding = session.exec(select(Finding).where(Finding.platform_id == platform.id)).one()
    # Each refused head is one failure whose reason says what was wrong (not "DownloadFailedError").
    summary = run.error_summary.splitlines()
    assert f"www.hostile.test: 1x response headers larger than {MAX_RESPONSE_HEAD_BYTES} bytes" in summary
    assert f"www.hostile.test: 1x more than {MAX_RESPONSE_HEADER_FIELDS} response headers" in summary
    assert "www.hostile.test: 1x a response header line longer than 16384 bytes" in summary
    # A status code too large to store left the exchange unrecorded and the run degraded.
    assert "www.hostile.test: 2x a response status code that is not three digits" in summary
    assert run.errors == 5 and run.status == "ok", run.error_summary
    for path in (
        "/head/folded",
        "/head/many",
        "/head/long-line",
        "/head/status-huge",
        "/head/status-negative",
    ):
        assert hostile.url(path) not in captures
    # The crawl went on: the other pages are evidence and judged.
    assert hostile.url("/clear") in captures
    odd = captures[hostile.url("/head/bad-name")]
    assert odd.status == 200 and odd.body_length > 500
    assert finding.verdict == "flag"
    # The odd name is skipped (Twisted refuses it); the other headers are kept as received.
    headers = dict(read_exchange(data_dir, odd).headers)
    assert headers["X-Ok"] == "a\x00b\x80\xff"
    assert not any(name.lower().startswith("x-\xe9") for name in headers)


def test_http_client_head_limits_are_process_wide_and_reach_no_server_of_ours() -> None:
    """`scanner.net.http` sets http.client's head limits for the whole process (Python 3.11 has no
    per-connection setting): every requests-based fetch reads a head with them, and so would any
    ``http.server`` in the same process, which parses request heads with the same functions (1,000
    header lines of 16 KB each instead of 100 of 64 KiB). No process of ours runs one: only the
    simulated web of the tests and the demo (`scanner/world`) does. This fails when code outside it
    starts one, so that whoever adds it bounds its request heads itself."""
    import http.client

    import scanner.net.http  # noqa: F401 - sets the limits
    from scanner.net.head import MAX_RESPONSE_HEADER_FIELDS, MAX_RESPONSE_HEADER_LINE

    assert http.client._MAXHEADERS == MAX_RESPONSE_HEADER_FIELDS  # type: ignore[attr-defined]
    assert http.client._MAXLINE == MAX_RESPONSE_HEADER_LINE  # type: ignore[attr-defined]
    root = Path(__file__).resolve().parents[2]
    servers = [
        str(path.relative_to(root))
        for folder in ("scanner", "spiders", "blocklist")
        for path in (root / folder).rglob("*.py")
        if "world" not in path.relative_to(root).parts
        and ("http.server" in (text := path.read_text(encoding="utf-8")) or "socketserver" in text)
    ]
    assert servers == [], f"an http.server in production code takes the fetchers' head limits: {servers}"
