"""Downloader middleware: pages that need a browser are rendered in Chromium (`scanner.render`).

It sits at 580, below HttpCompressionMiddleware (590) and RedirectMiddleware (600), so it sees the
final, decoded response of a request after `WarcCaptureMiddleware` (950) recorded it. A 200 HTML
response is rendered when its target says ``render: always``, or ``auto`` (the default, from
settings.yaml ``render.mode``) and the page looks like a JavaScript shell (`looks_like_js_shell`).

What a render produces is evidence first: the sub-requests' exchanges (each fetched through the
egress policy) and then the RENDER capture (DOM + screenshot, ``WARC-Refers-To`` the response) go
through the crawl's one `CaptureWriter`. Only then is the rendered page handed on, in
``response.meta["rendered"]`` (`RenderedPage`); the spider yields it as a page of its own
(`EvidenceSpider.with_rendered`), so detection sees the rendered DOM and its signals point at the
RENDER capture; it is analysed under the page's URL with the fragment ``#pkscan-rendered``, so that
officers see which document a signal came from and the raw shell and its rendering stay two
current documents of the platform. The response itself goes on unchanged.

A page that cannot be rendered (time or size budget, a browser error) keeps its raw capture and
analysis and is counted as ``<host>: Nx render <reason>`` in the run's error summary; when Chromium
is missing, rendering is off for the crawl (``pkscan/render/unavailable``, logged once) and every
page that needed it is counted as ``render unavailable``.
Why not scrapy-playwright: it replaces the download itself, so the raw response would no longer be
captured off the wire by our capture middleware, sub-requests would leave through Chromium's network
stack instead of the egress client, and it cannot decide to render after seeing the response.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

from scrapy import signals
from scrapy.http import HtmlResponse
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import select, update
from sqlmodel import Session

from scanner.config import DIRECT_VANTAGE
from scanner.crawl.capture import EVIDENCE_WRITE_ERRORS
from scanner.crawl.context import CrawlContext
from scanner.crawl.vantage import VANTAGE
from scanner.evidence import EvidenceWriteError
from scanner.evidence.exchange import HttpExchange, PageRendering
from scanner.net.vantage import Vantage
from scanner.render import RENDERED_FRAGMENT, Renderer, RenderFailed, RenderUnavailable, looks_like_js_shell
from scanner.store.models import Capture, utcnow

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

log = logging.getLogger(__name__)
RENDERED = "rendered"  # response.meta key of the RenderedPage
STATS = "pkscan/render/"


@dataclass(frozen=True)
class RenderedPage:
    url: str
    body: bytes  # the DOM, UTF-8
    capture_id: int  # the RENDER capture


class RenderMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.context = CrawlContext.of(crawler)
        self.settings = self.context.config.settings
        self.stats = crawler.stats
        self.renderer: Renderer | None = None
        self.unavailable: str | None = None
        self.subrequests: list[tuple[int, list[int]]] = []  # (RENDER capture id, its sub-requests' ids)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        return cls(crawler)

    def spider_closed(self) -> Any:
        self._attach_subrequests()
        if self.renderer is not None:
            renderer, self.renderer = self.renderer, None
            return deferred_from_coro(renderer.close())
        return None

    def mode(self, request: Request) -> str:
        target = request.meta.get("target")
        if target:
            try:
                site = self.context.config.targets.site(target)
            except KeyError:
                site = None
            if site is not None and site.render is not None:
                return site.render
        return self.settings.render.mode

    def wanted(self, request: Request, response: Response) -> bool:
        if response.status != 200 or not isinstance(response, HtmlResponse):
            return False
        if request.meta.get("capture_id") is None:
            return False  # not recorded: nothing to refer to (and nothing to render as evidence)
        mode = self.mode(request)
        if mode == "never":
            return False
        if mode == "always":
            return True
        # The response's own tree (parsel's, cached on it): the spider's link extraction reuses it.
        return bool(response.body.strip()) and looks_like_js_shell(
            response.selector.root, self.settings.render.shell_max_text
        )

    def _not_rendered(self, host: str, reason: str) -> None:
        self.stats.inc_value(f"{STATS}failed/{reason}")
        self.stats.inc_value(f"pkscan/failure/{host}/render {reason}")  # in the run's error summary

    async def process_response(self, request: Request, response: Response) -> Response:
        if not self.wanted(request, response):
            return response
        host = urlsplit(response.url).hostname or "?"
        if self.unavailable is not None:
            self._not_rendered(host, "unavailable")
            return response
        if self.renderer is None:
            self.renderer = Renderer(self.settings)
        content_type = (response.headers.get(b"Content-Type") or b"text/html").decode("latin-1")
        vantage = self.context.config.vantage(request.meta.get(VANTAGE) or DIRECT_VANTAGE)
        try:
            result = await self.renderer.render(
                response.url, response.body, content_type, response.status, vantage=vantage
            )
        except RenderUnavailable as exc:
            self.unavailable = str(exc)
            self.stats.set_value(f"{STATS}unavailable", self.unavailable)
            log.error("rendering is off for this crawl: %s", exc)
            self._not_rendered(host, "unavailable")
            return response
        except RenderFailed as exc:
            self._not_rendered(host, exc.reason)
            log.warning("render failed: %s", exc)
            if exc.gate is not None:
                await self._record_many(exc.gate.exchanges)
            return response
        except Exception:  # noqa: BLE001 - rendering must never cost the page itself
            log.exception("rendering %s failed", response.url)
            self._not_rendered(host, "error")
            return response
        self.stats.inc_value(f"{STATS}subrequests", len(result.exchanges))
        for refused in result.refused:
            self.stats.inc_value(f"{STATS}refused/{refused.reason}")
        recorded = await self._record_many(result.exchanges)
        capture = await self._record_render(request, response, result, vantage)
        if capture is not None:
            request.meta[RENDERED] = RenderedPage(result.url, result.dom, capture.id)
            if recorded and capture.id is not None:
                self.subrequests.append((capture.id, recorded))
            self.stats.inc_value(f"{STATS}rendered")
        return response

    async def _record_many(self, exchanges: list[HttpExchange]) -> list[int]:
        """The sub-requests' exchanges as evidence (a failure is counted, the page goes on); their ids."""
        writer = self.context.capture_writer
        waiting = [writer.submit(x) for x in exchanges]
        recorded = []
        for outcome in await asyncio.gather(*waiting, return_exceptions=True):
            if isinstance(outcome, EvidenceWriteError):
                self.stats.inc_value(EVIDENCE_WRITE_ERRORS)
            elif isinstance(outcome, Exception):
                self.stats.inc_value(f"pkscan/evidence_failures/{type(outcome).__name__}")
            else:
                self.stats.inc_value("pkscan/captures")
                recorded.append(outcome.id)
        return recorded

    def _attach_subrequests(self) -> None:
        """Give the sub-requests' captures the platform of the page they rendered (its analysis is
        stored by now: pipelines close before this signal), so they go with the finding's evidence
        (bundles, the review pages). ``platform_id`` is derived, not chained; a killed crawl leaves
        them unattached, nothing else."""
        pending, self.subrequests = self.subrequests, []
        if not pending or self.context.database_lost is not None:
            return
        rendered = Capture.__table__  # type: ignore[attr-defined]
        try:
            with self.context.engine.begin() as conn:
                for render_id, ids in pending:
                    platform = conn.execute(
                        select(rendered.c.platform_id).where(rendered.c.id == render_id)
                    ).scalar()
                    if platform is not None:
                        conn.execute(
                            update(rendered).where(rendered.c.id.in_(ids)).values(platform_id=platform)
                        )
        except Exception:  # noqa: BLE001 - the evidence is recorded either way
            log.warning("could not attach sub-request captures to their platforms", exc_info=True)

    async def _record_render(
        self, request: Request, response: Response, result: Any, vantage: Vantage
    ) -> Capture | None:
        with Session(self.context.engine) as session:
            source = session.get(Capture, request.meta["capture_id"])
        if source is None:
            return None
        entry = PageRendering(
            url=response.url, final_url=result.url, status=response.status, refers_to=source.record_id,
            refers_to_date=source.fetched_at, dom=result.dom, screenshot=result.screenshot, rendered_at=utcnow(),
            info={"WARC-Pkscan-Renderer": "chromium (playwright)",
                  "WARC-Pkscan-Render-Settled": "true" if result.settled else "false"},
            vantage=vantage.recorded, vantage_country=vantage.country,
        )  # fmt: skip
        try:
            return await self.context.capture_writer.submit(entry)
        except EvidenceWriteError:
            self.stats.inc_value(EVIDENCE_WRITE_ERRORS)
        except Exception as exc:  # noqa: BLE001 - not recorded: the rendered page is not handed on
            self.stats.inc_value(f"pkscan/evidence_failures/{type(exc).__name__}")
        return None


def rendered_url(url: str) -> str:
    """The URL a rendered page is analysed under: its own fragment, so that the raw response and its
    rendering are two current documents of the platform rather than replacing each other at every crawl."""
    return urldefrag(url)[0] + RENDERED_FRAGMENT


def rendered_response(response: Response) -> HtmlResponse | None:
    """The rendered page of ``response`` as a response of its own (URL `rendered_url`, meta
    ``capture_id`` = the RENDER capture), or None when it was not rendered."""
    page: RenderedPage | None = response.meta.get(RENDERED)
    if page is None:
        return None
    meta = {**response.meta, "capture_id": page.capture_id}
    meta.pop(RENDERED)
    url = rendered_url(page.url)
    request = response.request.replace(url=url, meta=meta)
    return HtmlResponse(
        url=url, status=200, body=page.body, encoding="utf-8", request=request, flags=["pkscan-rendered"]
    )
