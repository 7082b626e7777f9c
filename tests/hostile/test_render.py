"""The renderer (headless Chromium) under the egress policy: a page's scripts and tags reaching for
loopback, the cloud metadata address, a DNS name rebound to 127.0.0.1 or a local file get nothing,
the canary never sees a request, and each refusal is named; a page that never yields ends at the
time budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.render import Renderer, RenderFailed
from scanner.world.misbehave import render_page
from tests.conftest import REPO_ROOT, chromium_path, require

from .conftest import Canary, Hostile, write_config

pytestmark = pytest.mark.browser
RESULTS = REPO_ROOT / "test-results"


def _renderer(tmp_path: Path, **render: object) -> Renderer:
    require("Chromium", chromium_path() is not None, "apt-get install chromium")
    config = Config(write_config(tmp_path / "config"), env={})
    settings = config.settings.model_copy(update={"render": config.settings.render.model_copy(update=render)})
    return Renderer(settings)


def _render(renderer: Renderer, url: str, body: bytes):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        try:
            return await renderer.render(url, body, "text/html; charset=utf-8")
        finally:
            await renderer.close()

    return asyncio.run(go())


def test_a_rendered_page_reaches_no_internal_address_and_no_file(
    tmp_path: Path, hostile: Hostile, canary: Canary
) -> None:
    cp = canary.port
    page = render_page("/js/internal", f"port={cp}")
    assert page is not None
    body = page.body.replace(  # type: ignore[union-attr]
        b"</body>",
        f'<img src="http://rebind.hostile.test:{cp}/dns"><iframe src="http://[::1]:{cp}/v6"></iframe>'
        f'<iframe src="file:///etc/passwd"></iframe><link rel="stylesheet" href="http://10.0.0.1/a.css"></body>'.encode(),
    )
    result = _render(_renderer(tmp_path, settle_seconds=2), hostile.url("/js/internal"), body)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "render-hostile-internal.png").write_bytes(result.screenshot)
    dom = result.dom.decode()
    for what in ("loopback", "metadata", "decimal", "file"):
        assert f"{what}: blocked" in dom, dom
    assert "CANARY-SECRET" not in dom and "root:x:0:0" not in dom
    assert canary.hits == []
    refused = {(r.url.split("/")[2], r.reason) for r in result.refused}
    assert (f"127.0.0.1:{cp}", "loopback") in refused
    assert any(host.startswith("169.254.169.254") for host, _ in refused)
    assert any(host.startswith("rebind.hostile.test") for host, _ in refused)
    assert any(host.startswith("10.0.0.1") for host, _ in refused)
    assert result.exchanges == []  # nothing was fetched, so nothing to record


def test_a_page_that_never_finishes_rendering_ends_at_the_time_budget(
    tmp_path: Path, hostile: Hostile
) -> None:
    page = render_page("/js/forever", "")
    assert page is not None
    renderer = _renderer(tmp_path, timeout_seconds=3, settle_seconds=1)
    with pytest.raises(RenderFailed) as failed:
        _render(renderer, hostile.url("/js/forever"), page.body)  # type: ignore[arg-type]
    assert failed.value.reason == "timeout"
    assert "render.timeout_seconds" in str(failed.value)


def test_a_post_from_the_page_is_not_sent(tmp_path: Path, hostile: Hostile, canary: Canary) -> None:
    script = (
        "<div id=root></div><script>fetch('/submit', {method: 'POST', body: 'cnic=12345'})"
        ".then(function () { root.textContent = 'sent'; }, function () { root.textContent = 'refused'; });</script>"
    )
    result = _render(
        _renderer(tmp_path, settle_seconds=2),
        hostile.url("/form"),
        f"<html><body>{script}</body></html>".encode(),
    )
    assert "refused" in result.dom.decode()
    assert [r.reason for r in result.refused] == ["method"]


def test_sub_requests_beyond_the_budget_are_refused_and_those_fetched_are_evidence(
    tmp_path: Path, hostile: Hostile
) -> None:
    images = "".join(f'<img src="{hostile.url(f"/clear?i={i}")}">' for i in range(5))
    body = f"<html><body><div id=root></div>{images}</body></html>".encode()
    result = _render(_renderer(tmp_path, max_subrequests=2, settle_seconds=2), hostile.url("/gallery"), body)
    assert sorted(r.reason for r in result.refused) == ["budget"] * 3
    fetched = [x.url for x in result.exchanges]
    assert len(fetched) == 2 and all("/clear?i=" in url for url in fetched)
    assert all(x.status == 200 and x.body for x in result.exchanges)


def test_a_rendered_dom_over_its_size_budget_is_not_kept(tmp_path: Path, hostile: Hostile) -> None:
    script = "<div id=root></div><script>root.textContent = 'USDT '.repeat(100000);</script>"
    with pytest.raises(RenderFailed) as failed:
        _render(
            _renderer(tmp_path, max_dom_bytes=64 * 1024),
            hostile.url("/huge"),
            f"<html><body>{script}</body></html>".encode(),
        )
    assert failed.value.reason == "too_large" and "render.max_dom_bytes" in str(failed.value)


def test_a_websocket_to_an_internal_service_never_connects(
    tmp_path: Path, hostile: Hostile, canary: Canary
) -> None:
    script = (
        f"<div id=root>start</div><script>var ws = new WebSocket('ws://127.0.0.1:{canary.port}/admin');"
        "ws.onmessage = function (m) { root.textContent = 'got ' + m.data; };"
        "ws.onclose = function () { root.textContent += ' closed'; };</script>"
    )
    result = _render(
        _renderer(tmp_path, settle_seconds=2),
        hostile.url("/ws"),
        f"<html><body>{script}</body></html>".encode(),
    )
    assert '<div id="root">start closed</div>' in result.dom.decode()  # closed, nothing received
    assert canary.hits == []
