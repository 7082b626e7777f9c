"""A rendered page (DOM + screenshot) is evidence like an exchange: WARC records tied to the response
they render, chained (screenshot digest included), checked by `evidence verify` and `warcio check`."""

from __future__ import annotations

import hashlib
from io import BytesIO

from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from scanner.evidence import EvidenceRecorder, read_exchange, read_screenshot, verify
from scanner.store.models import utcnow
from tests.evidence.conftest import record_page
from tests.evidence.test_evidence_log import warcio

# A 1x1 PNG: the records do not care what the image shows.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
DOM = b"<html><body><h1>USDT/PKR</h1><p>Deposit with JazzCash</p></body></html>"


def record_with_render(engine, data_dir):
    with EvidenceRecorder(engine, data_dir, 10**8) as recorder:
        page = record_page(
            recorder, 1, body=b"<html><body><div id=root></div><script src=/app.js></script></body></html>"
        )
        render = recorder.record_render(
            url=page.url, final_url=page.url, status=200, refers_to=page.record_id,
            refers_to_date=page.fetched_at, dom=DOM, screenshot=PNG, rendered_at=utcnow(),
            info={"WARC-Pkscan-Renderer": "test"},
        )  # fmt: skip
    return page, render


def test_a_render_is_chained_with_its_screenshot_and_refers_to_its_response(engine, data_dir):
    page, render = record_with_render(engine, data_dir)
    assert (render.method, render.seq, render.prev_chain_hash) == ("RENDER", 2, page.chain_hash)
    assert render.screenshot_sha256 == hashlib.sha256(PNG).hexdigest()
    assert render.body_sha256 == hashlib.sha256(DOM).hexdigest()
    records = {}
    with open(data_dir / render.warc_file, "rb") as handle:
        handle.seek(render.warc_offset)
        for record in ArchiveIterator(BytesIO(handle.read(render.warc_length))):
            records[record.rec_type] = (record.rec_headers, record.content_stream().read())
    conversion, conversion_body = records["conversion"]
    resource, resource_body = records["resource"]
    assert conversion_body == DOM and resource_body == PNG
    assert conversion.get_header("WARC-Refers-To") == page.record_id
    assert resource.get_header("WARC-Refers-To") == page.record_id
    assert resource.get_header("WARC-Concurrent-To") == render.record_id
    assert resource.get_header("WARC-Target-URI") == "urn:view:" + page.url
    assert resource.get_header("Content-Type") == "image/png"
    assert read_exchange(data_dir, render).body == DOM
    assert read_screenshot(data_dir, render) == PNG and read_screenshot(data_dir, page) is None
    report = verify(engine, data_dir)
    assert report.ok and report.captures == 2, report.problems
    check = warcio("check", "-v", str(data_dir / render.warc_file))
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_tampered_screenshot_byte_is_detected(engine, data_dir):
    _page, render = record_with_render(engine, data_dir)
    path = data_dir / render.warc_file
    data = bytearray(path.read_bytes())
    data[render.warc_offset + render.warc_length - 20] ^= 0x01  # inside the screenshot record's gzip member
    path.write_bytes(bytes(data))
    report = verify(engine, data_dir)
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "warc")]
    assert "SHA-256" in report.problems[0].reason


def test_a_changed_screenshot_digest_in_the_row_breaks_the_chain(engine, data_dir):
    _page, _render = record_with_render(engine, data_dir)
    with engine.begin() as conn:
        conn.execute(text("UPDATE capture SET screenshot_sha256 = :v WHERE seq = 2"), {"v": "0" * 64})
    report = verify(engine, data_dir)
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "chain")]
