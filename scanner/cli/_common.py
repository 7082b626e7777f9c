"""Helpers shared by CLI modules: the loaded config, the store, a console."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine

from scanner.config import Config
from scanner.store.db import open_store


def shown(text: str) -> str:
    """Text the investigated people wrote (a channel title, an app name, a page's words), for the
    terminal: rich markup escaped, and every control character written out as ``\\x1b``, ``\\x07``.

    rich passes ESC through, so a channel titled ``"\\x1b[2J..."`` cleared an officer's screen; other
    sequences rewrite earlier lines (a "flag" shown as "clear"), hide text or set the clipboard.
    Line breaks are written out too: one row stays one row."""
    return escape("".join(_visible(char) for char in text))


def _visible(char: str) -> str:
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


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
