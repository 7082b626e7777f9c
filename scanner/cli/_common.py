"""Helpers shared by CLI modules: the loaded config, the store, a console."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.engine import Engine

from scanner.config import Config, get_config
from scanner.store.db import open_store

console = Console()
if not console.is_terminal:
    # Piped or in a CI log rich assumes 80 columns, which folds ids and names in our tables.
    console = Console(width=160)
err_console = Console(stderr=True)


def config() -> Config:
    cfg = get_config()
    cfg.validate_all()
    return cfg


def store() -> Engine:
    return open_store(config())
