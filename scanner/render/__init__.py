"""Rendering JavaScript pages in headless Chromium (Playwright on Debian's ``/usr/bin/chromium``).

Many exchange front ends send an empty shell (a root ``div`` and scripts) and build their content in
the browser; what a Pakistani visitor sees exists only after the scripts ran. The renderer loads a
captured response in Chromium, serves every sub-request through the egress policy, and hands back
the rendered DOM and a full-page PNG screenshot, which become a RENDER capture (`scanner.evidence`)
and a document for detection.

- `looks_like_js_shell(body, max_text)`: the ``auto`` rule (little visible text, a ``div``, scripts)
- `Renderer(settings).render(url, body, content_type)` -> `RenderResult` or `RenderFailed`
- `SubrequestGate`: what every sub-request passes (egress policy, GET/HEAD only, budgets)

Settings: ``render:`` in settings.yaml (`scanner.config.RenderSettings`); per target ``render:
auto|always|never`` in targets.yaml. In crawls: `scanner.crawl.rendering.RenderMiddleware`.
"""

from scanner.render.browser import Renderer, RenderFailed, RenderResult, RenderUnavailable
from scanner.render.shell import looks_like_js_shell
from scanner.render.subrequests import SubrequestGate

# A rendered page is analysed under its URL with this fragment: a document of its own, next to the raw
# response's analysis (re-verification, which does not render, leaves these documents alone).
RENDERED_FRAGMENT = "#pkscan-rendered"

__all__ = [
    "RENDERED_FRAGMENT",
    "RenderFailed",
    "RenderResult",
    "RenderUnavailable",
    "Renderer",
    "SubrequestGate",
    "looks_like_js_shell",
]
