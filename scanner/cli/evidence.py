"""`scanner evidence verify [--bundle FILE]` and `scanner evidence repair --reason TEXT [--dry-run]`.

``verify`` exits 1 listing every bad record (with their count); records a repair marked lost are
named but do not fail it. ``repair`` appends one mark entry to the chain for every capture whose WARC
bytes are missing or damaged (never rewriting a row); it exits 1 if chain problems remain, which no
mark can excuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scanner.cli._common import config, console, err_console
from scanner.printable import visible

if TYPE_CHECKING:
    from scanner.evidence import VerifyReport

evidence_app = typer.Typer(
    help="Evidence integrity: WARC records and the hash-chained capture log.", no_args_is_help=True
)


@evidence_app.command("verify")
def evidence_verify(
    ctx: typer.Context,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Verify an evidence bundle (zip) instead of the store.")
    ] = None,
) -> None:
    """Re-read every WARC record, recompute digests and the hash chain; exit 1 listing every bad record."""
    if bundle is not None:
        _verify_bundle(bundle)
        return

    from scanner.evidence import verify
    from scanner.evidence.verify import WARC
    from scanner.store.db import open_store

    cfg = config(ctx)
    report = verify(open_store(cfg), cfg.data_dir)
    if report.problems:
        console.print(
            f"[red]✗ evidence verification failed:[/red] {len(report.problems)} bad "
            f"record{'s' if len(report.problems) != 1 else ''} among {report.checked} chain entries",
            highlight=False,
        )
        for problem in report.problems:
            console.print(f"  [{problem.kind}] {problem}", markup=False, highlight=False, soft_wrap=True)
        _print_marked(report)
        if any(p.kind == WARC for p in report.problems):
            console.print(
                "records whose WARC bytes are lost can be marked as such: scanner evidence repair --reason TEXT",
                highlight=False,
            )
        raise typer.Exit(1)
    marked = f", {len(report.marked)} marked lost" if report.marked else ""
    console.print(
        f"[green]✓[/green] {report.captures} captures verified{marked}; chain tip {report.tip}",
        highlight=False,
    )
    _print_marked(report)


def _print_marked(report: VerifyReport) -> None:
    for marked in report.marked:
        console.print(f"  [marked] {marked}", markup=False, highlight=False, soft_wrap=True)


def _verify_bundle(bundle: Path) -> None:
    """An evidence bundle, or a referral packet (its digests, then the bundle inside)."""
    from scanner.review.bundle import verify_bundle
    from scanner.review.referral import is_referral, verify_referral

    if not bundle.is_file():
        err_console.print(f"[red]error:[/red] --bundle: {bundle} is not a file")
        raise typer.Exit(2)
    what = "referral packet" if is_referral(bundle) else "bundle"
    problems = verify_referral(bundle) if what == "referral packet" else verify_bundle(bundle)
    if problems:
        for problem in problems:
            # A bundle is a file anyone may hand over: its manifest's URLs and ids are its author's
            # words, written out so that they cannot drive the terminal.
            console.print(f"✗ {visible(problem)}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] {what} {bundle} verified")


@evidence_app.command("repair")
def evidence_repair(
    ctx: typer.Context,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why the records are lost; kept in the mark for whoever verifies later."
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be marked.")] = False,
) -> None:
    """Mark captures whose WARC records are missing or damaged as lost, in the chain (history is kept)."""
    from scanner.evidence.repair import repair
    from scanner.store.db import open_store

    if not reason.strip():
        err_console.print("[red]error:[/red] --reason must say why the records are lost")
        raise typer.Exit(2)
    cfg = config(ctx)
    result = repair(
        open_store(cfg), cfg.data_dir, reason, warc_max_bytes=cfg.settings.warc_max_bytes, dry_run=dry_run
    )
    for problem in result.marked:
        console.print(
            f"  {'would mark' if dry_run else 'marked'} lost: {problem}", highlight=False, soft_wrap=True
        )
    if result.mark is not None:
        console.print(
            f"[green]✓[/green] {len(result.marked)} records marked lost in chain entry {result.mark.seq} "
            f"({result.mark.warc_file})",
            highlight=False,
        )
    elif not result.marked:
        console.print("nothing to mark: no capture has missing or damaged WARC records", highlight=False)
    if result.unrepairable:
        console.print(
            f"[red]✗ {len(result.unrepairable)} chain problems cannot be marked[/red] (the capture log itself was "
            "altered; restore the database from a backup):",
            highlight=False,
        )
        for problem in result.unrepairable:
            console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
