"""`scanner db upgrade`: apply migrations."""

from __future__ import annotations

import typer

from scanner.cli._common import config, console
from scanner.store.db import make_engine, upgrade

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest revision."""
    cfg = config(ctx)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.database_url)
    upgrade(engine)
    console.print(f"database at [bold]{engine.url.render_as_string(hide_password=True)}[/bold] is up to date")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
