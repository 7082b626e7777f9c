"""Which pages the crawl renders (`render: auto`), and the render settings' validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.config import Config, ConfigError
from scanner.render import looks_like_js_shell
from scanner.world import start_world
from tests.conftest import REPO_ROOT

SHELLS = [
    b'<!DOCTYPE html><html><head><title>X</title></head><body><div id="root"></div>'
    b'<script src="/static/js/main.js"></script></body></html>',
    b'<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">'
    b'{"props": {"pageProps": {"title": "a long JSON payload that is not visible text at all"}}}</script></body></html>',
    b"<html><body><noscript>You need to enable JavaScript to run this app.</noscript><div id=app></div>"
    b"<script>window.boot()</script><style>body{margin:0}</style></body></html>",
]
PAGES = [
    # Real text: rendering would cost a browser for nothing.
    b"<html><body><div><h1>RupeeX</h1><p>" + b"Buy USDT with JazzCash and Easypaisa. " * 20 + b"</p></div>"
    b"<script src=/analytics.js></script></body></html>",
    b"<html><body><p>No script at all, no div.</p></body></html>",  # nothing would run
    b'<html><body><div id="root"></div></body></html>',  # no script: a browser shows the same
    b"",
    b"\x89PNG\r\n\x1a\n not html",
]


@pytest.mark.parametrize("body", SHELLS)
def test_javascript_shells_are_rendered_in_auto_mode(body: bytes) -> None:
    assert looks_like_js_shell(body, 200)


@pytest.mark.parametrize("body", PAGES)
def test_pages_with_text_or_without_scripts_are_not(body: bytes) -> None:
    assert not looks_like_js_shell(body, 200)


def test_the_simulated_web_shells_and_pages_are_told_apart() -> None:
    import requests

    with start_world() as world:
        session = requests.Session()
        session.trust_env, session.proxies = False, world.proxies
        get = lambda url: session.get(url, timeout=5).content  # noqa: E731
        assert looks_like_js_shell(get("http://khybercoin.test/"), 200)
        assert looks_like_js_shell(get("http://pindigadgets.test/payment"), 200)
        assert looks_like_js_shell(get("http://nextrade.test/"), 200)  # a Next.js shell is rendered too
        assert not looks_like_js_shell(get("http://rupee-exchange.test/"), 200)
        assert not looks_like_js_shell(get("http://coinchronicle.test/"), 200)


def _config(tmp_path: Path, render: dict | None = None, site_render: object = None) -> Config:
    (tmp_path / "settings.yaml").write_text(
        yaml.safe_dump({"inherit": str(REPO_ROOT / "config"), "render": render or {}})
    )
    site = {"name": "x", "seeds": ["http://x.test/"]}
    if site_render is not None:
        site["render"] = site_render
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump({"sites": [site]}))
    return Config(tmp_path, env={})


def test_render_settings_default_and_per_target(tmp_path: Path) -> None:
    config = _config(tmp_path, {"mode": "never", "timeout_seconds": 30}, site_render="always")
    assert config.settings.render.mode == "never" and config.settings.render.timeout_seconds == 30
    assert config.settings.render.chromium == "/usr/bin/chromium"
    assert config.targets.site("x").render == "always"


@pytest.mark.parametrize(
    ("render", "site_render", "names"),
    [
        ({"mode": "sometimes"}, None, "render.mode"),
        ({"timeout_seconds": 0}, None, "render.timeout_seconds"),
        ({"timeout_seconds": 5, "settle_seconds": 5}, None, "settle_seconds must be below timeout_seconds"),
        ({"max_total_bytes": 10}, None, "render.max_total_bytes"),
        ({"concurrency": 0}, None, "render.concurrency"),
        ({"budget": 1}, None, "render.budget"),
        ({}, "maybe", "sites[0].render"),
    ],
)
def test_a_bad_render_setting_names_file_and_key(
    tmp_path: Path, render: dict, site_render: object, names: str
) -> None:
    with pytest.raises(ConfigError) as error:
        config = _config(tmp_path, render, site_render)
        config.settings, config.targets  # noqa: B018 - loading is what fails
    assert names in str(error.value), str(error.value)
