"""`EvidenceRecorder`: the one way HTTP exchanges become evidence (crawls and API pollers alike).

Usage::

    recorder = EvidenceRecorder(engine, config.data_dir, config.settings.warc_max_bytes, run_id=run_id)
    capture = recorder.record(
        method="GET", url=url, request_headers=[("User-Agent", ua)], request_body=None,
        final_url=url, status=200, reason="OK", response_headers=[("Content-Type", "text/html")],
        body=b"<html>...", fetched_at=utcnow(), remote_ip="203.0.113.7",
    )
    capture.id, capture.seq, capture.body_sha256   # link signals / P2P ads to capture.id
    recorder.close()

``record`` (the fields of `scanner.evidence.exchange.HttpExchange`) first writes the WARC response + request records and makes them durable (fdatasync), then
appends the `Capture` row to the hash chain (committed); ``record_many`` does that for several
exchanges with one sync and one chain transaction. So a committed capture always has its records
on disk; a crash in between leaves at most unreferenced WARC records, never a row without evidence.
``record_render`` records a page rendered in Chromium the same way: a ``conversion`` record (the
DOM) and a ``resource`` record (the PNG screenshot) referring to the response they render, chained as
one capture with ``method = "RENDER"`` whose ``screenshot_sha256`` is chained too.

If the disk refuses (full, file too large, I/O error), ``record``/``record_many`` raise
`EvidenceWriteError` and record none of the exchanges given: no row is chained, the file ends with
whole records (the partial one is cut off) and the next call writes at the right offset again once
there is space. Callers must count that as a failure of the run; it is never a fetch error to retry.
If the chain transaction itself fails, its records stay in the file unreferenced: they are not cut
off, because a commit whose acknowledgement was lost may still have happened.
``body`` is the payload as received (before content decoding); headers are (name, value) pairs in
wire order. One recorder per process (it owns one WARC file at a time); it is not thread-safe.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from scanner.evidence import chain
from scanner.evidence.exchange import HttpExchange, PageRendering, header_value
from scanner.evidence.warc import RENDERED_DOM_TYPE, EvidenceWriteError, WarcWriter
from scanner.net.vantage import WARC_VANTAGE, WARC_VANTAGE_COUNTRY
from scanner.printable import storable
from scanner.store.models import Capture

__all__ = ["RENDER_METHOD", "EvidenceRecorder", "EvidenceWriteError", "header_value", "is_render"]

# Capture.method of a page rendered in Chromium (its DOM and screenshot), not an HTTP exchange.
RENDER_METHOD = "RENDER"


def is_render(capture: Capture) -> bool:
    return capture.method == RENDER_METHOD


def vantage_headers(vantage: str | None, country: str | None) -> dict[str, str]:
    """The WARC headers naming the vantage point a capture was made from (none for a direct fetch)."""
    if not vantage:
        return {}
    return {WARC_VANTAGE: vantage, **({WARC_VANTAGE_COUNTRY: country} if country else {})}


class EvidenceRecorder:
    def __init__(self, engine: Engine, data_dir: Path | str, warc_max_bytes: int, run_id: int | None = None):
        self.engine = engine
        self.run_id = run_id
        info = {"pkscan-run-id": str(run_id)} if run_id is not None else {}
        self.writer = WarcWriter(data_dir, warc_max_bytes, info=info)

    def record(self, exchange: HttpExchange | None = None, /, **fields: Any) -> Capture:
        """Write one exchange (an `HttpExchange`, or its fields) to WARC, then chain its Capture row."""
        return self.record_many([exchange or HttpExchange(**fields)])[0]

    def record_render(self, **page: Any) -> Capture:
        """Write a rendered page (the fields of `PageRendering`), then chain its RENDER row.

        ``refers_to`` is the WARC-Record-ID of the response it was rendered from; ``status`` repeats
        that response's status.
        """
        return self.record_many([PageRendering(**page)])[0]

    def record_many(self, items: list[HttpExchange | PageRendering]) -> list[Capture]:
        """`record`/`record_render` for several items: all WARC records first, then one chain transaction.

        Raises `EvidenceWriteError` (nothing of the batch recorded) when a record cannot be written or
        synced; records of the batch already written stay in the file as whole, unreferenced records.
        """
        return self.commit(self.write(items))

    def write(self, items: list[HttpExchange | PageRendering]) -> list[dict[str, Any]]:
        """The first half of `record_many`: write the items' WARC records (not yet durable, not
        chained) and return their rows for `commit`. A caller gathering a batch writes each item as it
        comes; a failure (`EvidenceWriteError`) fails the whole batch gathered so far."""
        return [self._render_row(x) if isinstance(x, PageRendering) else self._exchange_row(x) for x in items]

    def commit(self, rows: list[dict[str, Any]]) -> list[Capture]:
        """The second half: make every record written so far durable, then chain ``rows`` (from
        `write`, in order) in one transaction."""
        self.writer.sync()  # the records are durable before a chain row points at them
        return chain.append_many(self.engine, rows)

    def _exchange_row(self, x: HttpExchange) -> dict[str, Any]:
        written = self.writer.write_exchange(
            method=x.method, url=x.url, request_headers=x.request_headers, request_body=x.request_body,
            status=x.status, reason=x.reason, response_headers=x.response_headers, body=x.body,
            fetched_at=x.fetched_at, remote_ip=x.remote_ip, info=vantage_headers(x.vantage, x.vantage_country),
        )  # fmt: skip
        # Chained as the store holds them (`scanner.printable.storable`): a NUL in a Content-Type kept
        # the page out of the evidence on PostgreSQL; the WARC record keeps the header as received.
        return {
            "run_id": self.run_id, "method": storable(x.method.upper()[:8]), "url": storable(x.url),
            "final_url": storable(x.final_url), "status": x.status,
            "content_type": storable(x.header("content-type")[:256]), "fetched_at": x.fetched_at,
            "remote_ip": x.remote_ip, **written.row(), "body_length": len(x.body), "vantage": x.vantage,
        }  # fmt: skip

    def _render_row(self, x: PageRendering) -> dict[str, Any]:
        written = self.writer.write_render(
            url=x.url, refers_to=x.refers_to, refers_to_date=x.refers_to_date, dom=x.dom,
            screenshot=x.screenshot, rendered_at=x.rendered_at,
            info={**(x.info or {}), **vantage_headers(x.vantage, x.vantage_country)},
        )  # fmt: skip
        return {
            "run_id": self.run_id, "method": RENDER_METHOD, "url": x.url, "final_url": x.final_url,
            "status": x.status, "content_type": RENDERED_DOM_TYPE, "fetched_at": x.rendered_at, "remote_ip": None,
            **written.row(), "body_length": len(x.dom), "screenshot_sha256": hashlib.sha256(x.screenshot).hexdigest(),
            "vantage": x.vantage,
        }  # fmt: skip

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> EvidenceRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
