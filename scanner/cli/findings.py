"""`scanner findings ...`: findings and officer decisions (``decide`` is added by scanner.cli.decide).

``scanner findings rejudge [--all]`` re-judges findings from their stored analyses: those left stale
by a run that was killed, lost its database or its detection worker (what every crawl also does at
its end), or with ``--all`` every finding (after a lexicon or register change). Exit 1 if any failed.

``scanner findings referral ID [--out FILE]`` writes the referral packet of a confirmed finding
(`scanner.review.referral`): a printable page (and its PDF), the evidence bundle and their digests.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Annotated

import typer

from scanner.cli._common import config, console, err_console

findings_app = typer.Typer(help="Findings and officer decisions.", no_args_is_help=True)


@findings_app.command("rejudge")
def rejudge_command(
    ctx: typer.Context,
    everything: bool = typer.Option(False, "--all", help="Every finding, not only the stale ones."),
) -> None:
    """Re-judge findings from their stored analyses (the stale ones, or --all)."""
    from scanner.detection.rules import lexicons_for
    from scanner.findings.rejudge import all_platforms, rejudge, stale_platforms
    from scanner.runs import close_orphaned_runs
    from scanner.store.db import open_store

    cfg = config(ctx)
    engine = open_store(cfg)
    close_orphaned_runs(engine)  # marks of a dead process's run are ours to re-judge
    platforms = all_platforms(engine) if everything else stale_platforms(engine)
    report = rejudge(engine, platforms, lexicons_for(cfg), cfg.register)
    console.print(
        f"re-judged {report.judged} findings: {len(report.flagged)} flagged, {len(report.cleared)} clear",
        highlight=False,
    )
    for platform_id, error in sorted(report.failed.items()):
        err_console.print(f"[red]platform {platform_id}:[/red] {error}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)


@findings_app.command("referral")
def referral_command(
    ctx: typer.Context,
    finding_id: Annotated[int, typer.Argument(help="A confirmed finding (published or pending approval).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the packet (default: ./referral-ID.zip).")
    ] = None,
) -> None:
    """Write the referral packet of a confirmed finding: page, PDF, evidence bundle, digests."""
    from scanner.review import audit
    from scanner.review.referral import PDF_NAME, ReferralError, build_referral
    from scanner.store.db import open_store, session_scope

    cfg = config(ctx)
    engine = open_store(cfg)
    target = out or Path(f"referral-{finding_id}.zip")
    try:
        with session_scope(engine) as session:
            audit.record(
                session, "cli", "referral.download", audit.finding_subject(finding_id), file=str(target)
            )
            session.flush()
            build_referral(session, cfg, finding_id, target)
    except (LookupError, ReferralError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None

    with zipfile.ZipFile(target) as packet:
        printed = PDF_NAME in packet.namelist()
    note = "" if printed else " (no Chromium found: print referral.html to PDF from a browser)"
    console.print(f"referral packet of finding {finding_id} written to {target}{note}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
