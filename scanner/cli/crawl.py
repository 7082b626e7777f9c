"""`scanner crawl SPIDER`, `scanner findings list` (`scanner evidence ...` is in `scanner.cli.evidence`).

``scanner crawl site --target NAME`` runs the spider in this process (Scrapy's CrawlerProcess with the
project settings, exactly what ``scrapy crawl site -a target=NAME`` runs), shows a status line, then
a summary. Exit 0 when the run is ``ok``; 3 when it is ``degraded`` (finished, but something it
fetched was not recorded, stored or judged; the summary says what, and the next run heals it); 1
when it failed (nothing fetched, the database lost, the engine stopped for another reason) or was
interrupted; 2 for an unknown spider or target.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.table import Table

from scanner.cli._common import config, console, err_console
from scanner.cli.findings import findings_app

SPIDERS = ("site", "discovery")


def _env_log_level(default: int) -> int:
    import logging

    name = os.environ.get("SCANNER_LOG_LEVEL", "").strip().upper()
    if not name:
        return default
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise typer.BadParameter(
            f"SCANNER_LOG_LEVEL={name!r} is not a log level (DEBUG, INFO, WARNING, ERROR, CRITICAL)"
        )
    return level


def _crawler_process(verbose: bool) -> Any:
    import logging

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scanner.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    # --verbose wins; otherwise SCANNER_LOG_LEVEL (the demo quiets its children with ERROR), then WARNING.
    level = logging.INFO if verbose else _env_log_level(logging.WARNING)
    settings.set("LOG_LEVEL", logging.getLevelName(level), priority="cmdline")
    # Our JSON log handler (scanner.logs) stays the root handler; Scrapy sets its loggers to DEBUG.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    for handler in logging.root.handlers:
        handler.setLevel(level)  # Scrapy lowers the root logger to NOTSET while it starts
    process = CrawlerProcess(settings)
    logging.root.setLevel(level)
    for name in ("scrapy", "twisted", "py.warnings"):
        logging.getLogger(name).setLevel(level)
    return process


def crawl(
    ctx: typer.Context,
    spider: str = typer.Argument(..., help=f"Spider name: {', '.join(SPIDERS)}."),
    target: str | None = typer.Option(
        None, "--target", "-t", help="Site target name from targets.yaml (site spider)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Scrapy's INFO log on stderr."),
) -> None:
    """Crawl with one spider: capture evidence, detect, store findings; prints a summary."""
    cfg = config(ctx)
    if spider not in SPIDERS:
        err_console.print(f"[red]unknown spider {spider!r}[/red] (known: {', '.join(SPIDERS)})")
        raise typer.Exit(2)
    if target is not None:
        if spider != "site":
            err_console.print("[red]--target applies to the site spider only[/red]")
            raise typer.Exit(2)
        if target not in {s.name for s in cfg.targets.sites}:
            known = ", ".join(s.name for s in cfg.targets.sites) or "none"
            err_console.print(
                f"[red]unknown site target {target!r}[/red] in {cfg.find('targets.yaml')} (known: {known})"
            )
            raise typer.Exit(2)

    started = _start_worker()
    try:
        _run_crawl(spider, target, verbose, started)
    finally:
        if started is not None:
            started.shutdown()  # a no-op once the crawl has finished it


def _start_worker() -> Any:
    """The detection worker, loading (~2 s: imports, the rules) while this process imports Scrapy and
    builds the crawler. For the configuration the crawl reads (`scanner.crawl.context.crawl_config`:
    the environment's), which uses it if it wants one; None when that cannot be read (the crawl says why)."""
    from scanner.config import Config, ConfigError
    from scanner.crawl.detect_worker import WorkerPool

    try:
        config_dir = Config().dir
    except ConfigError:
        return None
    return WorkerPool.start(str(config_dir.resolve()))


def _run_crawl(spider: str, target: str | None, verbose: bool, started: Any) -> None:
    from twisted.internet import task

    from scanner.crawl.context import CrawlContext, offer_worker

    process = _crawler_process(verbose)
    crawler = process.create_crawler(spider)
    if started is not None:
        offer_worker(crawler, started)
    failures: list[str] = []
    deferred = process.crawl(crawler, **({"target": target} if target else {}))
    deferred.addErrback(lambda failure: failures.append(failure.getErrorMessage()))
    label = f"{spider}" + (f" --target {target}" if target else "")

    with console.status(f"crawling {label}…") as status:

        def show() -> None:
            if crawler._stats is None:
                return
            stats = crawler.stats.get_stats()
            pages = stats.get("pkscan/captures", 0) + stats.get("pkscan/replayed", 0)
            errors = sum(v for k, v in stats.items() if k.startswith("pkscan/failure/"))
            status.update(
                f"crawling {label}: {pages} pages, {stats.get('item_scraped_count', 0)} items, {errors} errors"
            )

        ticker = task.LoopingCall(show)
        ticker.start(1.0, now=False)
        try:
            process.start()
        finally:
            if ticker.running:
                ticker.stop()

    context = getattr(crawler, "_pkscan_context", None)
    if failures or context is None or context.run_id is None:
        why = "; ".join(failures) or getattr(context, "database_lost", None) or "no run was recorded"
        err_console.print(f"[red]crawl {label} did not run:[/red] {why}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    _print_run(CrawlContext.of(crawler))


EXIT_CODES = {"ok": 0, "degraded": 3}  # anything else (failed, interrupted): 1


def _read_run(engine: Any, run_id: int) -> Any:
    from sqlmodel import Session

    from scanner.store.models import Run

    with Session(engine) as session:
        return session.get(Run, run_id)


def _print_run(context: Any) -> None:
    from scanner.store.db import StoreUnavailable, retrying

    status = context.status or "failed"
    if context.database_lost is not None:
        # One line: the traceback went to the structured log; the run is closed by the next start if need be.
        err_console.print(
            f"run #{context.run_id} [red]failed[/red]: {context.database_lost}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    try:
        run = retrying(lambda: _read_run(context.engine, context.run_id), what="reading the run", seconds=5)
    except StoreUnavailable as exc:
        err_console.print(f"run #{context.run_id} {status}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    assert run is not None
    colour = {"ok": "green", "interrupted": "yellow", "degraded": "yellow"}.get(run.status, "red")
    console.print(
        f"run #{run.id} [{colour}]{run.status}[/{colour}]: {run.pages} pages, {run.items} items, "
        f"{run.errors} errors, {context.findings_flagged} findings flagged"
    )
    hosts = run.error_summary.splitlines()[len(context.problems) :]
    if context.problems:
        console.print(
            "not ok because:\n" + "\n".join(f"  {line}" for line in context.problems), highlight=False
        )
    if hosts:
        console.print("errors by host:\n" + "\n".join(hosts), highlight=False)
    if run.status != "ok":
        raise typer.Exit(EXIT_CODES.get(run.status, 1))


# ---------------------------------------------------------------- findings list


@findings_app.command("list")
def findings_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    verdict: str | None = typer.Option(None, "--verdict", help="flag or clear."),
    status: str | None = typer.Option(
        None, "--status", help="Review status, e.g. new, confirmed, published."
    ),
) -> None:
    """Findings with platform, score, verdict, status, sightings, signal counts and evidence count."""
    if verdict not in (None, "flag", "clear"):
        err_console.print(f"[red]--verdict must be flag or clear, not {verdict!r}[/red]")
        raise typer.Exit(2)
    from scanner.findings import list_findings
    from scanner.store.db import open_store, session_scope

    with session_scope(open_store(config(ctx))) as session:
        rows = list_findings(session, verdict=verdict, status=status)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Findings ({len(rows)})")
    for column, justify in (
        ("id", "right"),
        ("platform", "left"),
        ("score", "right"),
        ("verdict", "left"),
        ("status", "left"),
        ("sightings", "right"),
        ("signals", "left"),
        ("evidence", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        verdict_text = "[bold red]flag[/bold red]" if row["verdict"] == "flag" else "[green]clear[/green]"
        platform = row["platform"] + (f" (+{', '.join(row['mirrors'])})" if row["mirrors"] else "")
        top = sorted(row["signals"].items(), key=lambda kv: -kv[1])[:3]
        signals = (
            f"{sum(row['signals'].values())}: " + ", ".join(f"{kind} {count}" for kind, count in top)
            if top
            else "—"
        )
        table.add_row(str(row["id"]), platform, f"{row['score']:.2f}", verdict_text, row["status"],
                      str(row["sightings"]), signals, str(row["evidence"]))  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)
