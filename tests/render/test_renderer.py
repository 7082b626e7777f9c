"""The renderer outlives its browser: a Chromium that died between pages is started again."""

from __future__ import annotations

import asyncio

import pytest

from scanner.config import Settings
from scanner.render import Renderer
from tests.conftest import chromium_path, require

pytestmark = pytest.mark.browser
SHELL = b"<html><body><div id=root></div><script>root.textContent = 'USDT/PKR with JazzCash';</script></body></html>"


def test_a_browser_that_died_is_started_again_for_the_next_page() -> None:
    require("Chromium", chromium_path() is not None, "apt-get install chromium")
    renderer = Renderer(Settings.model_validate({"render": {"settle_seconds": 1}}))

    async def go() -> tuple[bytes, bytes]:
        try:
            first = await renderer.render("http://spa.test/", SHELL, "text/html")
            await renderer._browser.close()  # as if Chromium had crashed: the handle is still there
            second = await renderer.render("http://spa.test/", SHELL, "text/html")
            return first.dom, second.dom
        finally:
            await renderer.close()

    first, second = asyncio.run(go())
    assert b"USDT/PKR with JazzCash" in first and first == second
