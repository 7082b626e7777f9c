"""WARC capture downloader middleware: every HTTP exchange a spider makes becomes evidence.

It sits next to the downloader (priority 950, after every other downloader middleware), so it sees
each response as it came off the wire: robots.txt, every redirect hop, error statuses, each retry,
still content-encoded. It writes the exchange with `EvidenceRecorder` and puts the capture id in
``request.meta["capture_id"]`` (so ``response.meta`` of the page the spider parses names its capture).

On a resumed job it also replays: a GET whose response an interrupted run of the job already
captured (status below 500, not 429, fetched within ``crawl.replay_max_hours``) is answered from that WARC record, flagged ``pkscan-replayed``,
instead of being fetched again (see `scanner.crawl.jobs`).

Exchanges are written by `CaptureWriter`'s thread (in arrival order, what queued up while the
previous batch was written going into one chain transaction), so waiting for the SQLite write
lock (the detection worker stores analyses meanwhile) never stops the reactor.

The remote address is recorded only for direct connections: through a proxy the peer is the proxy.
The vantage point a request went through (`scanner.crawl.vantage`) is recorded with its capture.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from sqlmodel import Session, col, select

from scanner.crawl.context import CrawlContext
from scanner.crawl.vantage import VANTAGE, VANTAGE_COUNTRY
from scanner.evidence import EvidenceWriteError, read_exchange
from scanner.evidence.exchange import HttpExchange
from scanner.evidence.warc import HOP_BY_HOP_RENAMES, reason_phrase
from scanner.store.models import Capture, utcnow

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

REPLAYED = "pkscan-replayed"
EVIDENCE_WRITE_ERRORS = "pkscan/evidence_write_errors"  # responses whose evidence could not be written
_RENAMED = {v.lower() for v in HOP_BY_HOP_RENAMES.values()}


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values]


class WarcCaptureMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self._replay: dict[tuple[str, str | None], int] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        return cls(crawler)

    # -- replay on resume

    def _replay_map(self) -> dict[tuple[str, str | None], int]:
        """(url, vantage point) -> capture: a page is replayed only from what the same vantage point saw."""
        if self._replay is None:
            self._replay = {}
            job = self.context.job
            if job is not None and job.resumed_runs:
                max_age = timedelta(hours=self.context.config.settings.crawl.replay_max_hours)
                with Session(self.context.engine) as session:
                    rows = session.exec(
                        select(Capture.url, Capture.vantage, Capture.id)
                        .where(col(Capture.run_id).in_(job.resumed_runs), Capture.method == "GET")
                        .where(Capture.status < 500, Capture.status != 429)
                        .where(col(Capture.fetched_at) >= utcnow() - max_age)
                        .order_by(col(Capture.seq))
                    )
                    self._replay = {
                        (url, vantage): capture_id
                        for url, vantage, capture_id in rows
                        if capture_id is not None
                    }
            self.crawler.stats.set_value("pkscan/replayable", len(self._replay))
        return self._replay

    def process_request(self, request: Request) -> Response | None:
        if request.method != "GET":
            return None
        capture_id = self._replay_map().get((request.url, request.meta.get(VANTAGE) or None))
        if capture_id is None:
            return None
        with Session(self.context.engine) as session:
            capture = session.get(Capture, capture_id)
        if capture is None:
            return None
        exchange = read_exchange(self.context.config.data_dir, capture)
        headers = Headers([(k, v) for k, v in exchange.headers if k.lower() not in _RENAMED])
        cls = responsetypes.from_args(headers=headers, url=request.url, body=exchange.body)
        request.meta["capture_id"] = capture.id
        self.crawler.stats.inc_value("pkscan/replayed")
        return cls(
            url=request.url,
            status=exchange.status,
            headers=headers,
            body=exchange.body,
            request=request,
            flags=[REPLAYED],
        )

    # -- capture

    async def process_response(self, request: Request, response: Response) -> Response:
        if REPLAYED in response.flags:
            return response
        remote_ip = None
        if not request.meta.get("proxy") and getattr(response, "ip_address", None) is not None:
            remote_ip = str(response.ip_address)
        exchange = HttpExchange(
            method=request.method, url=request.url, request_headers=_pairs(request.headers),
            request_body=request.body or None, final_url=response.url, status=response.status,
            reason=reason_phrase(response.status), response_headers=_pairs(response.headers), body=response.body,
            fetched_at=utcnow(), remote_ip=remote_ip,
            vantage=request.meta.get(VANTAGE) or None, vantage_country=request.meta.get(VANTAGE_COUNTRY),
        )  # fmt: skip
        # The response goes on (to be parsed, analysed) only once its capture is committed.
        try:
            capture = await self.context.capture_writer.submit(exchange)
        except EvidenceWriteError:
            # Not recorded: the page fails (the errback counts it) and the run cannot be ok.
            self.crawler.stats.inc_value(EVIDENCE_WRITE_ERRORS)
            raise
        except Exception as exc:
            # Fetched but not recorded otherwise (e.g. the database went away): the run must not end "ok".
            self.crawler.stats.inc_value(f"pkscan/evidence_failures/{type(exc).__name__}")
            raise
        request.meta["capture_id"] = capture.id
        self.crawler.stats.inc_value("pkscan/captures")
        return response
