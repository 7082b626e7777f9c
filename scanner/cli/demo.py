"""`scanner demo` and `scanner scan`: every enabled spider and poller once, then a summary.

`scan` runs the configured jobs against the real targets. `demo` first starts the simulated web
(`scanner.world`) and points the same jobs at it through the standard proxy variables, using
`config/demo/` unless SCANNER_CONFIG_DIR says otherwise. Each crawl or poll is a subprocess, as
under the scheduler (a Twisted reactor cannot restart inside one process).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scanner.cli import _common
from scanner.cli._common import console, use_config
from scanner.config import PROJECT_ROOT, Config
from scanner.store.db import open_store

DEMO_CONFIG_DIR = PROJECT_ROOT / "config" / "demo"


def demo_jobs(config: Config) -> list[tuple[str, str, list[str]]]:
    """(kind, name, argv) for one pass: all sites in one crawl, every discovery source, the discovery
    crawl (seeds and the candidates the sources named), every poller."""
    jobs: list[tuple[str, str, list[str]]] = []
    if any(site.enabled for site in config.targets.sites):
        jobs.append(("crawl", "site", ["crawl", "site"]))
    sources = [source for source in config.targets.sources if source.enabled]
    jobs += [("discover", source.name, ["discover", source.name]) for source in sources]
    if config.targets.discovery.enabled and (config.targets.discovery.seeds or sources):
        jobs.append(("crawl", "discovery", ["crawl", "discovery"]))
    for poller in config.targets.pollers:
        if poller.enabled:
            jobs.append(("poll", poller.name, ["poll", poller.name]))
    return jobs


def run_jobs(config: Config, env: dict[str, str], trigger: str) -> dict[str, str]:
    """Run each job as a subprocess with a progress bar; returns job name -> final run status."""
    from scanner.ops.scheduler import TRIGGER_ENV, JobRunner

    engine = open_store(config)
    runner = JobRunner(engine, timeout_seconds=config.settings.scheduler.run_timeout_seconds, env=env)
    runner.env[TRIGGER_ENV] = trigger
    jobs = demo_jobs(config)
    results: dict[str, str] = {}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("jobs", total=len(jobs))
        for kind, name, argv in jobs:
            label = f"{kind} {name}"
            progress.update(task, description=f"running [bold]scanner {' '.join(argv)}[/bold]")
            results[label] = runner.run(f"{trigger}:{kind}:{name}", argv, kind, name)
            progress.advance(task)
        progress.update(task, description="all jobs finished")
    return results


def summary_table(config: Config) -> Table:
    from scanner.report import platform_summaries

    table = Table(title="Platforms", show_lines=False, expand=False)
    for column, justify in (("platform", "left"), ("verdict", "left"), ("score", "right"), ("status", "left"),
                            ("licence", "left"), ("top signals", "left"), ("evidence", "right"),
                            ("PKR ads by rail", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    from sqlmodel import Session

    from scanner.discovery.frontier import discovered_by

    engine = open_store(config)
    rows = platform_summaries(engine)
    with Session(engine) as session:
        found = discovered_by(session, [row.platform for row in rows])
    for row in rows:
        verdict = "[bold red]flag[/bold red]" if row.verdict == "flag" else "[green]clear[/green]"
        rails = ", ".join(f"{rail} {count}" for rail, count in row.rails.items()) or "—"
        how = found.get(row.platform)  # how discovery found a platform no config names
        platform = row.platform + (f" (found by {how['source']})" if how else "")
        table.add_row(platform, verdict, f"{row.score:.2f}", row.status, row.licence_status or "—",
                      ", ".join(row.top_signals) or "—", str(row.evidence), rails)
    return table


def results_table(results: dict[str, str]) -> Table:
    table = Table(title="Runs")
    table.add_column("job")
    table.add_column("status")
    for label, status in results.items():
        colour = {"ok": "green", "skipped": "yellow"}.get(status, "red")
        table.add_row(label, f"[{colour}]{status}[/{colour}]")
    return table


DEMO_OFFICERS = (("officer-a", "officer"), ("officer-b", "officer"), ("admin", "admin"))
DEMO_BANK = "Demo Bank"


def officer_walkthrough(ctx: typer.Context, config: Config) -> None:
    """What officers and a bank do next, done once so the demo ends with a published feed.

    Accounts and a bank key are created with random secrets written to the data dir (mode 0600).
    Two officers confirm and approve the top-ranked flagged finding with the two-person rule; every
    other finding stays in the review queue for a person to decide.
    """
    import secrets

    from sqlmodel import Session, col, select

    from blocklist import keys
    from scanner.cli.feed import export
    from scanner.evidence.verify import verify
    from scanner.review import audit
    from scanner.review.decisions import decide
    from scanner.store.db import session_scope
    from scanner.store.models import ApiKey, Finding, Platform, PollSnapshot, User
    from scanner.web.security.passwords import hash_password

    engine = open_store(config)
    credentials = config.data_dir / "demo-credentials.txt"
    lines: list[str] = []
    with session_scope(engine) as session:
        for username, role in DEMO_OFFICERS:
            if session.exec(select(User).where(User.username == username)).first() is None:
                password = secrets.token_urlsafe(12)
                session.add(User(username=username, password_hash=hash_password(password), role=role))
                audit.record(session, "demo", "user.add", f"user:{username}", role=role)
                lines.append(f"review login  {username} ({role}): {password}")
        if session.exec(select(ApiKey).where(ApiKey.bank == DEMO_BANK, col(ApiKey.revoked_at).is_(None))).first() is None:
            _, raw_key = keys.create(session, DEMO_BANK)
            lines.append(f"feed API key  {DEMO_BANK}: {raw_key}")
    if lines:
        with credentials.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        credentials.chmod(0o600)

    with session_scope(engine) as session:
        flagged = session.exec(
            select(Finding, Platform)
            .join(Platform, col(Platform.id) == col(Finding.platform_id))
            .where(Finding.verdict == "flag", Finding.status == "new")
            .order_by(col(Finding.score).desc())
        ).all()
        polled = set(session.exec(select(PollSnapshot.platform_id).where(PollSnapshot.ads > 0)).all())
        # The top-ranked site, and the top P2P desk so the feed's payment-rail summary has content.
        chosen = flagged[:1] + [row for row in flagged[1:] if row[1].id in polled][:1]
        for finding, platform in chosen:
            reason = f"Demo: {platform.key} offers crypto trading to Pakistani users without a PVARA licence."
            decide(session, config, finding.id or 0, "confirm", reason, "officer-a", via="demo")
            decide(session, config, finding.id or 0, "approve", "Demo: second officer checked the evidence.",
                   "officer-b", via="demo")
            console.print(f"officers confirmed and approved [bold]{platform.key}[/bold] (two-person rule)")
    with Session(engine) as session:
        waiting = len(session.exec(select(Finding.id).where(Finding.verdict == "flag", Finding.status == "new")).all())
    console.print(f"{waiting} flagged findings wait in the review queue for an officer")

    feeds = config.data_dir / "feeds"
    for fmt, name in (("json", "blocklist.json"), ("csv", "blocklist.csv"), ("hosts", "hosts.txt"),
                      ("rpz", "blocklist.rpz"), ("stix", "stix.json"), ("rails", "rails.json")):
        export(ctx, format=fmt, output=feeds / name, since=None)
    report = verify(engine, config.data_dir)
    if report.ok:
        console.print(f"evidence: {report.checked} captures verified against their WARC records and the hash chain")
    else:
        console.print(f"[red]evidence verification failed:[/red] {report.problem}")
        raise typer.Exit(1)
    console.print(f"accounts and the bank key: [bold]{credentials}[/bold]")


def demo(
    ctx: typer.Context,
    fresh: bool = typer.Option(False, "--fresh", help="Delete the demo data dir first."),
    port: int = typer.Option(0, "--port", help="Port of the simulated web (0: any free port)."),
) -> None:
    """Start the simulated web, run every demo spider and poller against it, print the findings."""
    from scanner.world import start_world

    config = _common.config(ctx) if os.environ.get("SCANNER_CONFIG_DIR") else use_config(ctx, Config(DEMO_CONFIG_DIR))
    if fresh and config.data_dir.exists():
        shutil.rmtree(config.data_dir)
    open_store(config)
    with start_world(port=port) as world:
        console.print(
            f"simulated web on [bold]{world.proxy_url}[/bold] (used as HTTP proxy), "
            f"its Pakistani exit on [bold]{world.pk_exit_url}[/bold] (vantage point pk)"
        )
        env = dict(os.environ)
        env.update(
            SCANNER_CONFIG_DIR=str(config.dir.resolve()),
            SCANNER_DATA_DIR=str(Path(config.data_dir).resolve()),
            SCANNER_DATABASE_URL=config.database_url,
            HTTP_PROXY=world.proxy_url, http_proxy=world.proxy_url,
            PKSCAN_DEMO_PK_EXIT=world.pk_exit_url,  # the demo's vantage point `pk` (config/demo/targets.yaml)
        )
        for var in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
            env.pop(var, None)
        # The misbehaving host makes the crawl log many warnings and retry errors; the run record keeps them.
        env.setdefault("SCANNER_LOG_LEVEL", "CRITICAL")
        results = run_jobs(config, env, trigger="demo")
    console.print(results_table(results))
    if any(status != "ok" for status in results.values()):
        console.print(summary_table(config))
        raise typer.Exit(1)
    officer_walkthrough(ctx, config)
    console.print(summary_table(config))
    data_dir = f" SCANNER_DATA_DIR={config.data_dir}" if os.environ.get("SCANNER_DATA_DIR") else ""
    console.print(
        f"data: [bold]{config.data_dir}[/bold]  ·  review UI and feeds: "
        f"[bold]SCANNER_CONFIG_DIR={config.dir}{data_dir} .venv/bin/scanner serve[/bold] → http://127.0.0.1:8000/review/"
    )


def scan(ctx: typer.Context) -> None:
    """Run every enabled spider and poller of the configuration once, then print the findings."""
    config = _common.config(ctx)
    results = run_jobs(config, dict(os.environ), trigger="cli")
    console.print(results_table(results))
    console.print(summary_table(config))
    if any(status != "ok" for status in results.values()):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("scan")(scan)
