"""`scanner poll ADAPTER`: one poll of one exchange API (P2P desk or market list)."""

from __future__ import annotations

import json
import os
import sys

import typer
from pydantic import ValidationError
from rich.table import Table

from scanner.cli._common import config, console, err_console, shown
from scanner.config import Config, ConfigError, PollerTarget
from scanner.detection.platform import platform_key
from scanner.pollers import ADAPTERS


def resolve_target(
    cfg: Config, name: str, base_url: str | None, fiat: str | None, asset: str | None
) -> PollerTarget:
    """The configured poller (by name or adapter), or, with ``--base-url``, an ad-hoc one for an adapter."""
    try:
        target = cfg.targets.poller(name)
    except KeyError:
        if name not in ADAPTERS or not base_url:
            known = sorted({p.name for p in cfg.targets.pollers} | set(ADAPTERS))
            hint = "" if name not in ADAPTERS else " (an adapter name without a config entry needs --base-url)"
            raise typer.BadParameter(f"unknown poller {name!r}{hint}; known: {', '.join(known)}", param_hint="ADAPTER") from None
        target = None
    update: dict[str, object] = {}
    if fiat:
        update["fiats"] = [fiat]
    if asset:
        update["assets"] = [asset]
    try:
        if target is None:
            return PollerTarget.model_validate(
                {"name": name.replace("_", "-"), "adapter": name, "base_url": base_url,
                 "platform": platform_key(str(base_url)), **update}
            )
        if base_url:
            update["base_url"] = base_url
        return PollerTarget.model_validate({**target.model_dump(), **update})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"poll: --{where.replace('_', '-')}: {err['msg']}") from None


def poll_command(
    ctx: typer.Context,
    adapter: str = typer.Argument(..., help="Poller name or adapter name from config targets.yaml pollers."),
    base_url: str = typer.Option(None, "--base-url", help="Override the API base URL (any adapter works with it)."),
    fiat: str = typer.Option(None, "--fiat", help="Fiat to poll (default: the target's, PKR)."),
    asset: str = typer.Option(None, "--asset", help="Asset to poll (default: the target's, USDT)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (adapter, ads, rails, verdict...)."),
    no_store: bool = typer.Option(False, "--no-store", help="Dry run: write nothing (no run, evidence, snapshot)."),
) -> None:
    """Poll one exchange API; store a snapshot, evidence and the platform's finding.

    Exit 0 on success; 1 when the poll failed (the message names adapter, URL and problem; the last good snapshot is kept); 2 on bad usage or configuration.
    """
    from scanner.pollers.runner import rejected_summary, run_poll

    cfg = config(ctx)
    target = resolve_target(cfg, adapter, base_url, fiat, asset)
    # The scheduler and the demo say who started the run through SCANNER_RUN_TRIGGER.
    outcome = run_poll(cfg, target, store=not no_store, trigger=os.environ.get("SCANNER_RUN_TRIGGER", "cli"))
    if as_json:
        sys.stdout.write(json.dumps(outcome.summary(), ensure_ascii=False) + "\n")
    elif outcome.ok:
        _print(outcome.summary())
    # Both name what the API sent (field names, values): written out and escaped for the terminal.
    if outcome.ok and outcome.rejected:
        left_out = rejected_summary(target.adapter, outcome.rejected)
        err_console.print(
            f"[yellow]poll degraded:[/yellow] {shown(left_out)}", highlight=False, soft_wrap=True
        )
    if not outcome.ok:
        err_console.print(f"[red]poll failed:[/red] {shown(outcome.error)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _print(summary: dict[str, object]) -> None:
    console.print(
        f"[bold]{summary['adapter']}[/bold] {summary['platform']} {summary['fiat']}: {summary['ads']} ads, "
        f"{summary['merchants']} merchants, median price {summary['median_price']}, verdict {summary['verdict']}",
        highlight=False,
    )
    rails = summary["payment_methods"]
    if isinstance(rails, dict) and rails:
        table = Table("payment rail", "ads")
        for rail, count in rails.items():
            table.add_row(str(rail), str(count))
        console.print(table)
    if summary.get("markets"):
        console.print(f"markets: {', '.join(summary['markets'])}")  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("poll")(poll_command)
