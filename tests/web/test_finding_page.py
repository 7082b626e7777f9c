"""The finding page an officer reads in one screen: signals grouped by kind and value, the timeline
folded, charts drawn on the server and every captured string escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from scanner.discovery.leads import MAX_CONTACTS_SHOWN, record_sighting
from scanner.findings.query import MAX_GROUPS_SHOWN, MAX_SIGHTINGS_SHOWN, rail_history, signal_overview
from scanner.review.timeline import build_timeline
from scanner.store.db import session_scope
from scanner.store.models import (
    Capture,
    Decision,
    Finding,
    FindingEvent,
    Platform,
    PlatformDomain,
    PollSnapshot,
    Signal,
    utcnow,
)
from scanner.web import charts
from scanner.web.pages import MAX_DOMAINS_SHOWN
from tests.web.reviewkit import DEMO_CAPTURES, Seeded, seed_demo_sized

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _stored_finding(seeded: Seeded, days: list[int], signals: list[tuple[str, str, int | None, float]]) -> tuple[int, list[int]]:
    """A finding whose signals are (kind, value, index of its capture or None, weight); the captures are
    fetched on ``days`` after T0. Returns the finding id and the capture ids."""
    with session_scope(seeded.engine) as session:
        platform = Platform(key="grouped.test", name="Grouped")
        session.add(platform)
        session.flush()
        captures = [
            Capture(
                seq=10_000 + n, url=f"http://grouped.test/{n}", final_url=f"http://grouped.test/{n}", status=200,
                fetched_at=T0 + timedelta(days=day), warc_file="w", warc_offset=0, warc_length=0, record_id=f"r{n}",
                body_sha256="0" * 64, prev_chain_hash="", chain_hash=f"grouped{n}", platform_id=platform.id,
            )  # fmt: skip
            for n, day in enumerate(days)
        ]
        session.add_all(captures)
        finding = Finding(platform_id=platform.id or 0, verdict="flag", score=0.9, first_seen=T0, last_seen=T0)
        session.add(finding)
        session.flush()
        session.add_all(
            Signal(
                finding_id=finding.id or 0, capture_id=captures[at].id if at is not None else None, kind=kind,
                value=value, weight=weight, snippet=f"around {value}", seen_at=T0 + timedelta(days=30),
            )  # fmt: skip
            for kind, value, at, weight in signals
        )
        session.flush()
        return finding.id or 0, [c.id or 0 for c in captures]


def test_grouping_counts_captures_occurrences_and_first_last_seen(seeded_any: Seeded) -> None:
    finding_id, ids = _stored_finding(
        seeded_any,
        [0, 5, 9],
        [
            ("pk_locale", "og:locale=en_PK", 1, 1.0),
            ("pk_locale", "og:locale=en_PK", 0, 1.0),
            ("pk_locale", "og:locale=en_PK", 0, 1.0),  # twice on one page: one capture
            ("pk_locale", "og:locale=en_PK", 2, 1.0),
            ("payment_rail", "JazzCash", 1, 0.7),
            ("payment_rail", "Easypaisa", None, 0.7),  # from an API: no capture
            ("payment_rail", "Easypaisa", None, 0.7),
            ("crypto_service", "buy crypto", 2, 0.5),
            ("crypto_service", "buy crypto", 2, 0.2),  # strongest weight wins
        ],
    )
    with Session(seeded_any.engine) as session:
        overview = signal_overview(session, finding_id)
    groups = overview.groups
    summary = [(g.kind, g.value, g.captures, g.occurrences, len(g.sightings), g.weight) for g in groups]
    assert summary == [
        ("pk_locale", "og:locale=en_PK", 3, 4, 4, 1.0),
        ("payment_rail", "Easypaisa", 2, 2, 2, 0.7),
        ("payment_rail", "JazzCash", 1, 1, 1, 0.7),
        ("crypto_service", "buy crypto", 1, 2, 2, 0.5),
    ]
    assert (overview.distinct, overview.occurrences, overview.captures, overview.unlisted) == (4, 9, 3, 0)
    locale = groups[0]
    assert (locale.first_seen, locale.last_seen) == (T0, T0 + timedelta(days=9))
    assert [s.capture_id for s in locale.sightings] == [ids[2], ids[1], ids[0], ids[0]]  # newest first
    assert locale.latest.url == "http://grouped.test/2"
    easypaisa = groups[1]
    assert easypaisa.first_seen == easypaisa.last_seen == T0 + timedelta(days=30)  # stored time without a capture
    assert [(k.kind, len(k.groups), k.occurrences) for k in overview.kinds] == [
        ("pk_locale", 1, 4),
        ("payment_rail", 2, 3),
        ("crypto_service", 1, 2),
    ]


def test_a_platform_with_endless_values_gets_a_page_of_the_strongest(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    """A hostile site decides how many distinct values its pages carry: the page lists the strongest
    groups and each group's newest sightings, and says how many more the evidence bundle holds."""
    client, _ = as_alice
    extra, repeats = 100, 50
    finding_id, ids = _stored_finding(
        seeded,
        list(range(repeats)),
        [("crypto_service", f"USDT {n}", 0, 0.1) for n in range(MAX_GROUPS_SHOWN + extra)]
        + [("payment_rail", "JazzCash", n, 0.9) for n in range(repeats)],
    )
    html = client.get(f"/review/findings/{finding_id}").text
    assert f"Signals: {MAX_GROUPS_SHOWN + extra + 1} distinct in {MAX_GROUPS_SHOWN + extra + repeats} occurrences" in html
    assert html.count('<tr class="signal-group">') == MAX_GROUPS_SHOWN
    assert f"{extra + 1} more are in the evidence bundle" in html
    row = re.search(r"<summary>JazzCash</summary>(.*?)</tr>", html, re.S)
    assert row is not None
    shown = [int(n) for n in re.findall(r'href="/review/captures/(\d+)\?finding=', row.group(1))]
    assert shown == ids[::-1][:MAX_SIGHTINGS_SHOWN]  # the newest captures
    assert f"{repeats - MAX_SIGHTINGS_SHOWN} older occurrences in the evidence bundle" in row.group(1)
    assert re.search(rf'class="num captures">{repeats}<', row.group(1))


def test_timeline_folds_repeated_sightings_and_keeps_decisions_in_order() -> None:
    events = [FindingEvent(finding_id=1, kind="first", at=T0, score=0.6, verdict="flag", capture_id=1)]
    events += [
        FindingEvent(
            finding_id=1,
            kind="sighting",
            at=T0 + timedelta(days=d),
            score=0.6,
            verdict="flag",
            capture_id=d + 1,
        )
        for d in range(1, 6)
    ]
    events.append(
        FindingEvent(finding_id=1, kind="change", at=T0 + timedelta(days=6), score=0.9, verdict="flag")
    )
    events.append(
        FindingEvent(finding_id=1, kind="sighting", at=T0 + timedelta(days=8), score=0.9, verdict="flag")
    )
    decisions = [
        Decision(
            finding_id=1,
            seq=1,
            action="confirm",
            reason="clear case",
            by_user="alice",
            at=T0 + timedelta(days=3, hours=1),
        )
    ]
    timeline = build_timeline(events, decisions)
    assert [(e.label, e.count) for e in timeline] == [
        ("first", 1), ("sighting", 3), ("confirm", 1), ("sighting", 2), ("change", 1), ("sighting", 1),
    ]  # fmt: skip
    folded = timeline[1]
    assert (folded.at, folded.until, folded.capture_id) == (T0 + timedelta(days=1), T0 + timedelta(days=3), 4)
    assert timeline[2].by == "alice"


def test_demo_sized_finding_page_shows_groups_not_rows(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    client, _ = as_alice
    finding_id = seed_demo_sized(seeded)
    page = client.get(f"/review/findings/{finding_id}")
    assert page.status_code == 200
    html = page.text
    assert "Signals: 43 distinct in 348 occurrences over 18 captures" in html
    assert html.count('<tr class="signal-group">') == 43
    # One row for og:locale=en_PK, found in all 18 captures, each capture listed under it.
    row = re.search(r"<summary>og:locale=en_PK</summary>(.*?)</tr>", html, re.S)
    assert row is not None
    assert len(re.findall(r'href="/review/captures/\d+\?finding=', row.group(1))) == DEMO_CAPTURES
    assert re.search(r'class="num captures">18<', row.group(1))
    # Judgements before signals; the timeline folds 17 unchanged sightings into one entry.
    assert html.index('id="judgements"') < html.index('id="signals"')
    assert "sighting ×17" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'id="score-chart"' in html


def _add_signal_and_rail(seeded: Seeded, finding_id: int, text: str, snippet: str) -> None:
    """A signal valued ``text`` and a P2P snapshot an hour later with ``text`` as a rail's name: the
    captured strings the finding page shows in its signal groups and its charts."""
    with Session(seeded.engine) as session:
        session.add(Signal(finding_id=finding_id, kind="payment_rail", value=text, snippet=snippet))
        snapshot = session.get(PollSnapshot, 1)
        assert snapshot is not None
        session.add(
            PollSnapshot(
                adapter="binance_p2p", platform_id=snapshot.platform_id, fiat="PKR", asset="USDT",
                taken_at=snapshot.taken_at + timedelta(hours=1),
                rails={text: {"ads": 1, "merchants": 1, "available_fiat": 5.0, "median_price": 1.0}},
            )
        )  # fmt: skip
        session.commit()


def test_captured_strings_are_escaped_in_groups_and_charts(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    client, _ = as_alice
    finding_id = seeded.findings["p2pbig"]
    hostile = '<img src=x onerror="alert(1)">'
    _add_signal_and_rail(seeded, finding_id, hostile, snippet=f"pay {hostile}")
    html = client.get(f"/review/findings/{finding_id}").text
    assert hostile not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert 'id="exposure-chart"' in html and "<polyline" in html


def test_rail_history_one_point_per_poll_top_rails_and_the_rest(seeded: Seeded) -> None:
    with Session(seeded.engine) as session:
        platform_id = session.get(PollSnapshot, 1).platform_id  # type: ignore[union-attr]
        later = utcnow() + timedelta(days=1)
        for asset, amount in (("USDT", 100.0), ("BTC", 50.0)):  # one poll run, two assets: summed
            session.add(
                PollSnapshot(
                    run_id=seeded.captures["running_run"], adapter="binance_p2p", platform_id=platform_id, fiat="PKR",
                    asset=asset, taken_at=later, rails={"jazzcash": {"available_fiat": amount}, "raast": {"available_fiat": 1.0}},
                )
            )  # fmt: skip
        session.commit()
        series = rail_history(session, platform_id, top=1)
    assert list(series) == ["jazzcash", "other rails"]
    assert [v for _, v in series["jazzcash"]] == [1_800_000.0, 150.0]
    assert [v for _, v in series["other rails"]] == [700_000.0, 2.0]  # easypaisa, then raast x2


def test_chart_geometry() -> None:
    bars = charts.bar_chart("t", [("a", 10), ("b", 5), ("c", 0)])
    assert [b.width for b in bars.bars][:2] == [220.0, 110.0] and bars.bars[2].width == 0
    columns = charts.column_chart("w", ["w1", "w2"], {"new": [1, 0], "published": [2, 3]})
    assert [(b.label, b.value) for b in columns.bars] == [("new", 1), ("published", 2), ("published", 3)]
    assert [item.label for item in columns.legend] == ["new", "published"]
    line = charts.line_chart("l", {"s": [(T0, 0.5), (T0 + timedelta(days=1), 1.0)]}, y_max=1.0)
    assert line.lines[0].points.split()[0].startswith("40.0,") and not line.empty
    assert charts.line_chart("l", {}).empty
    assert charts.short_number(1_234_567) == "1.2M" and charts.short_number(12) == "12"


def test_dashboard_charts_statuses_weeks_rails_and_sources(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    from scanner.findings import dashboard
    from scanner.review.decisions import STATUSES
    from scanner.store.models import Candidate, Platform

    client, _ = as_alice
    with Session(seeded.engine) as session:
        session.add(Platform(key="sindhbit.test", candidate=True, found_on_url="http://coinatlas.test/list"))
        session.add(Platform(key="ctlog.test", candidate=True, found_on_url="https://crt.sh/?q=pk"))
        session.add(
            Candidate(
                key="ctlog.test",
                url="https://ctlog.test/",
                found_on_url="https://crt.sh/?q=pk",
                source="crtsh",
            )
        )
        session.commit()
        assert dict(dashboard.status_counts(session, STATUSES))["new"] == 3  # the three flagged findings
        weekly = dashboard.findings_per_week(session, STATUSES, weeks=12)
        assert sum(weekly.counts["new"]) == 3 and len(weekly.weeks) == 12
        sources = dict(dashboard.new_platforms_by_source(session))
        assert sources == {dashboard.CONFIGURED: 4, dashboard.LINK: 1, "crtsh": 1}
        assert dashboard.top_rails(session)[0][:2] == ("jazzcash", 1_800_000.0)
    page = client.get("/review/dashboard")
    assert page.status_code == 200
    for chart in ("status-chart", "weekly-chart", "rails-chart", "sources-chart"):
        assert f'id="{chart}"' in page.text
    assert page.text.count("<svg xmlns=") == 4
    assert "<b>0</b> open." in page.text  # no disputes
    assert "link on a crawled page" in page.text and "crtsh" in page.text and "jazzcash" in page.text
    assert "<script>" not in page.text.split("</head>")[1]  # no script beyond the shared enhancement file


def test_a_rendered_capture_shows_its_screenshot_beside_the_highlighted_text(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    from scanner.store.db import session_scope
    from tests.evidence.test_render_records import PNG
    from tests.web.reviewkit import record_render_of

    client, _ = as_alice
    finding_id = seeded.findings["fastcoin"]
    page, render = record_render_of(seeded, "fastcoin")
    with session_scope(seeded.engine) as session:
        session.add(Signal(finding_id=finding_id, capture_id=render.id, kind="payment_rail", value="JazzCash",
                           snippet="Deposit with JazzCash", weight=0.7))  # fmt: skip
    html = client.get(f"/review/captures/{render.id}?finding={finding_id}").text
    assert f'<img src="/review/captures/{render.id}/screenshot"' in html
    assert "<mark>Deposit with JazzCash</mark>" in html  # the rendered DOM's text, highlighted
    shot = client.get(f"/review/captures/{render.id}/screenshot")
    assert shot.status_code == 200 and shot.content == PNG and shot.headers["content-type"] == "image/png"
    assert client.get(f"/review/captures/{page.id}/screenshot").status_code == 404  # not a rendered page
    # a screenshot that no longer hashes to the chained digest is not shown as evidence
    with session_scope(seeded.engine) as session:
        row = session.get(Capture, render.id)
        assert row is not None
        row.screenshot_sha256 = "0" * 64
    assert client.get(f"/review/captures/{render.id}/screenshot").status_code == 404


def test_bidi_controls_and_invisible_characters_in_captured_strings_are_written_out(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    """A right-to-left override shows "pay at moc.live now" reversed as "pay at won evil.com" and turns
    what follows it on the line around; zero-width characters hide inside a name. Officers see each
    written out, in the signals, their snippets and the charts; Urdu's joiners stay as written."""
    client, _ = as_alice
    finding_id = seeded.findings["p2pbig"]
    hostile = "pay at \u202emoc.live\u202c now, bin\u200bance \u2066x\u2069 \u0628\u200c\u0679"
    _add_signal_and_rail(seeded, finding_id, hostile, snippet=f"around {hostile}")
    html = client.get(f"/review/findings/{finding_id}").text
    for control in ("\u202e", "\u202c", "\u200b", "\u2066", "\u2069"):
        assert control not in html, repr(control)
    shown = "pay at \\u202emoc.live\\u202c now, bin\\u200bance \\u2066x\\u2069 \u0628\u200c\u0679"
    assert f"around {shown}" in html and html.count(shown) >= 3  # value, snippet, chart


def test_a_platform_with_endless_subdomains_and_numbers_gets_a_page_of_the_first(
    as_alice: tuple[TestClient, str], seeded: Seeded
) -> None:
    """Subdomains and phone numbers are the site's to invent: the page lists a bounded number and says so."""
    client, _ = as_alice
    many = MAX_DOMAINS_SHOWN + 50
    with session_scope(seeded.engine) as session:
        platform = session.exec(select(Platform).where(Platform.key == "fastcoin.test")).one()
        for n in range(many):
            session.add(PlatformDomain(platform_id=platform.id or 0, value=f"m{n:04}.fastcoin.test"))
            record_sighting(session, kind="phone", value=f"+92300{n:07}", platform="fastcoin.test",
                            url="http://fastcoin.test/contact", source="crawl-links")  # fmt: skip
    html = client.get(f"/review/findings/{seeded.findings['fastcoin']}").text
    domains = many + 2  # and fastcoin.test, fastcoin-pk.test
    assert f"{MAX_DOMAINS_SHOWN} of {domains} domains shown" in html
    assert html.count(".fastcoin.test <small>domain</small>") == MAX_DOMAINS_SHOWN - 2
    assert f"The first {MAX_CONTACTS_SHOWN} of {many} contacts seen here." in html
    assert html.count("WhatsApp <code>+92300") == MAX_CONTACTS_SHOWN
