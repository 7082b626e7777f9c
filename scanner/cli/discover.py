"""`scanner discover SOURCE|--all` reads discovery sources; `scanner candidates` lists the frontier."""

from __future__ import annotations

import json
import os
import sys

import typer
from rich.table import Table

from scanner.cli._common import config, console, err_console, shown, store
from scanner.config import Config, SourceTarget


def _sources(cfg: Config, name: str | None, every: bool) -> list[SourceTarget]:
    if every == bool(name):
        raise typer.BadParameter("give one SOURCE or --all", param_hint="SOURCE")
    if every:
        return [s for s in cfg.targets.sources if s.enabled]
    try:
        return [cfg.targets.source(name or "")]
    except KeyError:
        known = ", ".join(s.name for s in cfg.targets.sources) or "none configured"
        raise typer.BadParameter(f"unknown source {name!r}; known: {known}", param_hint="SOURCE") from None


def discover_command(
    ctx: typer.Context,
    source: str = typer.Argument(None, help="Source name (or adapter) from config targets.yaml sources."),
    every: bool = typer.Option(False, "--all", help="Every enabled source, one run each."),
    as_json: bool = typer.Option(
        False, "--json", help="One JSON object per source (new candidates, counts)."
    ),
    no_store: bool = typer.Option(
        False, "--no-store", help="Dry run: write nothing (no run, evidence, candidate)."
    ),
) -> None:
    """Read discovery sources; new platforms become candidates that `scanner crawl discovery` crawls.

    Exit 0 when every source was read; 1 when one failed (the message names source, URL and problem; nothing of that source is stored); 2 on bad usage or configuration.
    """
    from scanner.discovery.runner import run_discovery

    cfg = config(ctx)
    failed = 0
    for target in _sources(cfg, source, every):
        outcome = run_discovery(
            cfg, target, store=not no_store, trigger=os.environ.get("SCANNER_RUN_TRIGGER", "cli")
        )
        if as_json:
            sys.stdout.write(json.dumps(outcome.summary(), ensure_ascii=False) + "\n")
        elif outcome.ok:
            console.print(
                f"[bold]{target.name}[/bold]: {outcome.responses} responses, {len(outcome.leads)} leads, "
                f"{len(outcome.new)} new candidates ({shown(', '.join(outcome.new)) or 'none'}), {outcome.known} known, "
                f"{outcome.configured} configured" + (f", {outcome.contacts} contacts" if outcome.contacts else "")
                + (f"; {shown('; '.join(outcome.notes))}" if outcome.notes else ""),
                highlight=False, soft_wrap=True,
            )  # fmt: skip
        if not outcome.ok:
            failed += 1
            err_console.print(f"[red]discover failed:[/red] {outcome.error}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def candidates_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="One JSON object per candidate (frontier order), then per contact lead."
    ),
    limit: int = typer.Option(100, "--limit", min=1, help="How many candidates (and contact leads) to show."),
) -> None:
    """The discovery frontier: candidates best first (uncrawled and tried least, named by most sources,
    with a Pakistan word, seen most often); crawled ones with their finding. Then the contact leads:
    WhatsApp numbers and P2P merchants, with every platform each was seen on (most platforms first)."""
    from sqlmodel import Session

    from scanner.discovery.frontier import frontier_rows
    from scanner.discovery.leads import lead_rows

    with Session(store(ctx)) as session:
        rows = frontier_rows(session, limit=limit)
        leads = lead_rows(session, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(json.dumps({"kind": "platform", **row}, ensure_ascii=False, default=str))
        for lead in leads:
            typer.echo(json.dumps(lead, ensure_ascii=False, default=str))
        return
    table = Table("candidate", "source", "why", "seen", "sources", "crawled", "finding")
    for row in rows:
        finding = f"#{row['finding_id']} {row['verdict']}" if row["finding_id"] else ""
        # names and reasons come from the sources (channel titles, app names): never rich markup
        table.add_row(shown(row["key"]), shown(row["source"]), shown(row["reason"][:70]), str(row["seen_count"]),
                      shown(",".join(row["sources"])), _crawled(row), finding)  # fmt: skip
    console.print(table)
    if leads:
        contacts = Table("contact", "kind", "seen on", "sources", "seen", title="Contacts (not platforms)")
        for lead in leads:
            places = ", ".join(
                p["platform"] + (f" (#{p['finding_id']} {p['verdict']})" if p["finding_id"] else "")
                for p in lead["seen_on"]
            ) + "".join(f"; named like {key}" for key in lead["named_like"])
            contacts.add_row(shown(lead["value"]), lead["kind"], shown(places), shown(",".join(lead["sources"])),
                             str(lead["seen_count"]))  # fmt: skip
        console.print(contacts)


def _crawled(row: dict[str, object]) -> str:
    if row["crawled"]:
        return "yes"
    return f"no ({row['attempts']} tries)" if row["attempts"] else "no"


def register(app: typer.Typer) -> None:
    app.command("discover")(discover_command)
    app.command("candidates")(candidates_command)
