"""`Renderer`: one headless Chromium per process (Playwright, Debian's binary), one fresh browser
context per page.

A render never touches the network by itself:
- the page's own document is answered from the captured response (the render shows exactly the
  bytes kept as evidence, not a second fetch);
- every other request (scripts, styles, images, XHR, frames, navigations) is intercepted and answered
  from `SubrequestGate` (egress policy, GET/HEAD only, budgets) or aborted;
- Chromium is started with ``--host-resolver-rules=MAP * ~NOTFOUND`` (so prefetch, preconnect or
  anything not intercepted cannot reach a host), WebRTC limited to proxied UDP (none), service
  workers blocked, WebSockets closed, downloads refused (``accept_downloads=False``).

Budgets (settings.yaml ``render``): ``timeout_seconds`` bounds the whole render (a page whose script
never yields ends there, its context closed); within it the page gets ``settle_seconds`` to reach
``load`` and a quiet network; the DOM is capped at ``max_dom_bytes`` and the screenshot at
``max_screenshot_height`` pixels.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from scanner.config import Settings
from scanner.net.egress import EgressPolicy
from scanner.net.vantage import DIRECT, Vantage
from scanner.render.subrequests import SubrequestGate, SubrequestRefused

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]
CLOSE_SECONDS = 5.0  # closing a context whose page is stuck in a script


class RenderUnavailable(RuntimeError):
    """Chromium or Playwright is missing or does not start: nothing can be rendered in this process."""


class RenderFailed(Exception):
    """This page could not be rendered; ``reason`` is a short word for the run's counters
    (``timeout``, ``too_large``, ``browser``) and str() says what happened."""

    def __init__(self, url: str, reason: str, detail: str, gate: SubrequestGate | None = None):
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail
        self.gate = gate  # what was fetched before it failed (still evidence)


@dataclass
class RenderResult:
    url: str  # the page's URL after scripts ran (a script may change it)
    dom: bytes  # the serialised DOM, UTF-8
    screenshot: bytes  # PNG, full page up to max_screenshot_height
    seconds: float
    settled: bool  # the page reached load and a quiet network within settle_seconds
    gate: SubrequestGate = field(repr=False)

    @property
    def exchanges(self) -> list[dict[str, Any]]:
        """The sub-requests' exchanges, as `EvidenceRecorder.record` keyword dicts."""
        return self.gate.exchanges

    @property
    def refused(self) -> list[SubrequestRefused]:
        return self.gate.refused


class Renderer:
    """Async; use within one asyncio loop (Scrapy's asyncio reactor, or ``asyncio.run``)."""

    def __init__(self, settings: Settings, policy: EgressPolicy | None = None):
        self.settings = settings
        self.budget = settings.render
        self.policy = policy or EgressPolicy.from_settings(settings.egress)
        self._playwright: Any = None
        self._browser: Any = None
        self._starting: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        """Start Chromium (once); raises `RenderUnavailable` when it cannot be started."""
        if self._starting is None:
            self._starting = asyncio.Lock()
            self._slots = asyncio.Semaphore(self.budget.concurrency)
        async with self._starting:
            if self._browser is not None:
                return
            if not os.access(self.budget.chromium, os.X_OK):
                raise RenderUnavailable(
                    f"Chromium not found at {self.budget.chromium} (settings render.chromium)"
                )
            from playwright.async_api import async_playwright  # a dependency; imported when first used
            try:
                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.budget.chromium, headless=True, args=CHROMIUM_ARGS,
                    timeout=self.budget.timeout_seconds * 1000,
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - any launch failure means no rendering here
                await self.close()
                raise RenderUnavailable(f"Chromium did not start: {exc}") from None

    async def close(self) -> None:
        browser, playwright, self._browser, self._playwright = self._browser, self._playwright, None, None
        if browser is not None:
            try:
                await asyncio.wait_for(browser.close(), CLOSE_SECONDS)
            except Exception:  # noqa: BLE001 - it is going away either way
                log.warning("Chromium did not close cleanly", exc_info=True)
        if playwright is not None:
            try:
                await playwright.stop()
            except Exception:  # noqa: BLE001
                log.warning("Playwright did not stop cleanly", exc_info=True)

    async def render(
        self, url: str, body: bytes, content_type: str, status: int = 200, vantage: Vantage = DIRECT
    ) -> RenderResult:
        """Render the captured response ``body`` of ``url``; raises `RenderFailed` or `RenderUnavailable`.

        The page's sub-requests are fetched from ``vantage`` (the vantage point of the response), so a
        geo-gated app sees the same country as the page did."""
        await self.start()
        assert self._slots is not None
        async with self._slots:
            gate = SubrequestGate(self.settings, self.policy, vantage=vantage)
            started = time.monotonic()
            context = await self._new_context(url, gate)
            try:
                result = await asyncio.wait_for(
                    self._render(context, gate, url, body, content_type, status), self.budget.timeout_seconds
                )
            except TimeoutError:
                raise RenderFailed(
                    url,
                    "timeout",
                    f"not rendered within {self.budget.timeout_seconds:g} s (render.timeout_seconds)",
                    gate,
                ) from None
            except RenderFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - Playwright errors: the page, not the crawl, failed
                raise RenderFailed(url, "browser", f"{type(exc).__name__}: {str(exc)[:300]}", gate) from None
            finally:
                try:
                    await asyncio.wait_for(context.close(), CLOSE_SECONDS)
                except Exception:  # noqa: BLE001 - a context that will not close takes the browser with it
                    log.warning("a browser context did not close; restarting Chromium")
                    await self.close()
            result.seconds = time.monotonic() - started
            return result

    async def _new_context(self, url: str, gate: SubrequestGate) -> Any:
        """A fresh context (no cookies or storage from another page); a browser that crashed or was
        closed is started again once."""
        options = {
            "accept_downloads": False,
            "service_workers": "block",
            "java_script_enabled": True,
            "user_agent": self.settings.http.user_agent,
            "viewport": {"width": self.budget.viewport_width, "height": self.budget.viewport_height},
        }
        for attempt in range(2):
            try:
                if self._browser is None:
                    await self.start()
                return await self._browser.new_context(**options)
            except RenderUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - a dead browser: restart it once
                log.warning("Chromium is not answering (%s); restarting it", exc)
                await self.close()
                if attempt == 1:
                    raise RenderFailed(url, "browser", f"Chromium is not answering: {exc}", gate) from None
        raise AssertionError("unreachable")

    async def _render(
        self, context: Any, gate: SubrequestGate, url: str, body: bytes, content_type: str, status: int
    ) -> RenderResult:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        budget = self.budget
        page_served = False

        async def route(route: Any) -> None:
            nonlocal page_served
            request = route.request
            # The first navigation is goto(url) (Chromium may spell the URL differently, e.g. an
            # IDN or escaping): it gets the captured response itself, as kept in evidence.
            if not page_served and request.is_navigation_request():
                page_served = True
                await route.fulfill(
                    status=status, body=body, headers={"Content-Type": content_type or "text/html"}
                )
                return
            try:
                fetched = await asyncio.to_thread(
                    gate.fetch, request.method, request.url, navigation=request.is_navigation_request()
                )
            except SubrequestRefused as refused:
                log.info("render of %s: sub-request refused: %s", url, refused)
                # A refused navigation is cancelled ("aborted"): the page stays, as after a download,
                # instead of turning into Chromium's error page.
                await _quietly(
                    route.abort("aborted" if request.is_navigation_request() else "blockedbyclient")
                )
                return
            await _quietly(
                route.fulfill(status=fetched.status, headers=dict(fetched.headers), body=fetched.body)
            )

        await context.route("**/*", route)
        await context.route_web_socket("**/*", lambda ws: ws.close())
        page = await context.new_page()
        page.on("dialog", lambda dialog: asyncio.ensure_future(_quietly(dialog.dismiss())))
        await page.goto(url, wait_until="commit", timeout=budget.timeout_seconds * 1000)
        settled = True
        settle_until = time.monotonic() + budget.settle_seconds
        for state in ("load", "networkidle"):
            remaining = max(settle_until - time.monotonic(), 0.001)
            try:
                await page.wait_for_load_state(state, timeout=remaining * 1000)
            except PlaywrightTimeout:
                settled = False  # take what the page shows now
                break
        dom = (await page.content()).encode("utf-8")
        if len(dom) > budget.max_dom_bytes:
            raise RenderFailed(
                url, "too_large", f"rendered DOM of {len(dom)} bytes is over render.max_dom_bytes", gate
            )
        height = await page.evaluate(
            "() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
        )
        height = max(min(int(height or 0), budget.max_screenshot_height), budget.viewport_height)
        screenshot = await page.screenshot(
            type="png", full_page=True, animations="disabled",
            clip={"x": 0, "y": 0, "width": budget.viewport_width, "height": height},
        )  # fmt: skip
        final_url = page.url if page.url.startswith(("http://", "https://")) else url
        return RenderResult(
            url=final_url, dom=dom, screenshot=screenshot, seconds=0.0, settled=settled, gate=gate
        )


async def _quietly(awaitable: Any) -> None:
    """A route or dialog the page no longer waits for (it navigated, closed) is not an error."""
    try:
        await awaitable
    except Exception:  # noqa: BLE001
        pass
