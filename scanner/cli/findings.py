"""`scanner findings ...`: findings and officer decisions (``decide`` is added by scanner.cli.decide)."""

from __future__ import annotations

import typer

findings_app = typer.Typer(help="Findings and officer decisions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
