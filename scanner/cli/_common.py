"""Helpers shared by CLI modules: the loaded config, the store, a console."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.printable import visible
from scanner.store.db import open_store


def shown(text: str) -> str:
    """Text the investigated people wrote (a channel title, an app name, a page's words), for the
    terminal: control and format characters written out (`scanner.printable.visible`; rich passes
    ESC through, so a channel titled ``"\\x1b[2J..."`` cleared an officer's screen), then rich markup
    escaped. Line breaks are written out too: one row stays one row."""
    return escape(visible(text))


console = Console()
if not console.is_terminal:
    # Piped or in a CI log rich assumes 80 columns, which folds ids and names in our tables.
    console = Console(width=160)
err_console = Console(stderr=True)


def config(ctx: typer.Context, *, validate: bool = True) -> Config:
    """This command's configuration: the one its caller passed (``obj=``, as tests do), else the
    environment's (SCANNER_CONFIG_DIR, ...), loaded once per command; every file validated unless
    the command reads only a part of it (``validate=False``)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Config):
        root.obj = Config()
    if validate:
        root.obj.validate_all()
    return root.obj


def use_config(ctx: typer.Context, cfg: Config) -> Config:
    """Make ``cfg`` this command's configuration (``scanner demo`` runs on the demo's)."""
    ctx.find_root().obj = cfg
    return config(ctx)


def store(ctx: typer.Context) -> Engine:
    return open_store(config(ctx))
