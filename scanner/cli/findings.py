"""`scanner findings ...`: findings and officer decisions (``decide`` is added by scanner.cli.decide).

``scanner findings rejudge [--all]`` re-judges findings from their stored analyses: those left stale
by a run that was killed, lost its database or its detection worker (what every crawl also does at
its end), or with ``--all`` every finding (after a lexicon or register change). Exit 1 if any failed.
"""

from __future__ import annotations

import typer

from scanner.cli._common import config, console, err_console

findings_app = typer.Typer(help="Findings and officer decisions.", no_args_is_help=True)


@findings_app.command("rejudge")
def rejudge_command(
    everything: bool = typer.Option(False, "--all", help="Every finding, not only the stale ones."),
) -> None:
    """Re-judge findings from their stored analyses (the stale ones, or --all)."""
    from scanner.detection import load_lexicons
    from scanner.findings.rejudge import all_platforms, rejudge, stale_platforms
    from scanner.runs import close_orphaned_runs
    from scanner.store.db import open_store

    cfg = config()
    engine = open_store(cfg)
    close_orphaned_runs(engine)  # marks of a dead process's run are ours to re-judge
    platforms = all_platforms(engine) if everything else stale_platforms(engine)
    report = rejudge(engine, platforms, load_lexicons(cfg.lexicon_dir), cfg.register)
    console.print(
        f"re-judged {report.judged} findings: {len(report.flagged)} flagged, {len(report.cleared)} clear",
        highlight=False,
    )
    for platform_id, error in sorted(report.failed.items()):
        err_console.print(f"[red]platform {platform_id}:[/red] {error}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
