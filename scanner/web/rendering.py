"""Jinja2 templates loaded from the package (works from a wheel or zip, not just a source tree)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from scanner.printable import page_value
from scanner.web.charts import short_number
from scanner.web.security import csrf


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _span(first: datetime, last: datetime) -> str:
    """Two dates as briefly as they stay unambiguous: 2026-12-06, or 2026-11-18 → 12-05."""
    if first.date() == last.date():
        return f"{first:%Y-%m-%d}"
    return f"{first:%Y-%m-%d} → {last:%m-%d}" if first.year == last.year else f"{first:%Y-%m-%d} → {last:%Y-%m-%d}"


def _duration(value: timedelta) -> str:
    """An age an officer reads at a glance: 3 d 4 h, 5 h 12 min, 12 min."""
    minutes = max(int(value.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _cell(value: Any) -> str:
    """A table cell for mixed figures: times, amounts, yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scanner.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=page_value,  # bidi controls and invisible characters written out, in every page
    )
    env.filters["when"] = _when
    env.filters["cell"] = _cell
    env.filters["replace_page"] = lambda params, page: urlencode({**dict(params), "page": page})
    env.filters["pct"] = lambda value: f"{(value or 0) * 100:.0f}%"
    env.filters["short"] = short_number
    env.filters["span"] = _span
    env.filters["duration"] = _duration
    return Jinja2Templates(env=env)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    from scanner.web.auth import csrf_token, current_user

    base = {
        "user": current_user(request),
        "csrf_token": csrf_token(request),
        "csrf_field": csrf.FORM_FIELD,
        "two_person_rule": request.app.state.config.settings.review.two_person_rule,
    }
    base.update(context or {})
    return request.app.state.templates.TemplateResponse(request, name, base, status_code=status_code, headers=headers)
