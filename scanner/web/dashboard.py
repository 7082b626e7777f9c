"""The review dashboard: the whole picture in server-rendered SVG charts (no script)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from starlette.responses import Response

from scanner.findings import dashboard as figures
from scanner.review.decisions import STATUSES
from scanner.review.disputes import open_counts
from scanner.store.models import utcnow
from scanner.web import charts
from scanner.web.auth import csrf_protect, require_officer
from scanner.web.rendering import render

router = APIRouter(prefix="/review", dependencies=[Depends(require_officer), Depends(csrf_protect)])

WEEKS = 12


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    with Session(request.app.state.engine) as session:
        statuses = figures.status_counts(session, STATUSES)
        weekly = figures.findings_per_week(session, STATUSES, WEEKS)
        rails = figures.top_rails(session)
        sources = figures.new_platforms_by_source(session, WEEKS)
        disputes_open, disputes_late = open_counts(session, utcnow())
    week_labels = [f"{start:%d %b}" for start in weekly.weeks]
    return render(
        request,
        "dashboard.html",
        {
            "weeks": WEEKS,
            "disputes_open": disputes_open,
            "disputes_late": disputes_late,
            "statuses": statuses,
            "weekly": weekly,
            "week_labels": week_labels,
            "rails": rails,
            "sources": sources,
            "status_chart": charts.bar_chart("Findings per status", statuses),
            "weekly_chart": charts.column_chart(
                f"Findings first seen per week (last {WEEKS} weeks), by current status",
                week_labels,
                weekly.counts,
            ),
            "rails_chart": charts.bar_chart(
                "Top payment rails: PKR available in P2P ads (latest poll of each platform)",
                [(rail, volume) for rail, volume, _ in rails],
            ),
            "sources_chart": charts.bar_chart(
                f"New platforms by discovery source (last {WEEKS} weeks)", sources
            ),
        },
    )
