"""`scanner findings decide FINDING_ID ACTION --reason TEXT --by USERNAME`: the UI's decisions, scripted.

Goes through the same decision service as the review UI (same state machine, locking, audit and
blocklist sync). Exit 2 with a message on an unknown user, an unknown finding or a decision the
rules refuse (including one another officer's decision made illegal a moment earlier); exit 1 when
the database kept aborting the decision (nothing recorded; run it again).
"""

from __future__ import annotations

import typer

from scanner.cli._common import config, console, err_console
from scanner.cli.findings import findings_app
from scanner.review.decisions import ACTIONS, DecisionBusy, DecisionError, record
from scanner.store.db import open_store


@findings_app.command("decide")
def decide_command(
    ctx: typer.Context,
    finding_id: int = typer.Argument(..., help="Finding id (see `scanner findings list`)."),
    action: str = typer.Argument(..., help=f"One of: {', '.join(ACTIONS)}."),
    reason: str = typer.Option(..., "--reason", help="Why; required, kept in the audit trail and evidence bundle."),
    by: str = typer.Option(..., "--by", help="Username of the officer deciding (must exist)."),
) -> None:
    """Record an officer decision on a finding (confirm, dismiss, more-evidence, approve, revoke)."""
    cfg = config(ctx)
    engine = open_store(cfg)
    try:
        decision, status = record(engine, cfg, finding_id, action, reason, by, via="cli")
    except DecisionBusy as exc:
        err_console.print(f"[red]not recorded:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except DecisionError as exc:
        err_console.print(f"[red]refused:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(
        f"finding {finding_id}: {decision.action} by {decision.by_user} recorded; status is now [bold]{status}[/bold]",
        highlight=False,
    )
