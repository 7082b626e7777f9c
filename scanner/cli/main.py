"""Entry point of the `scanner` CLI.

Every module in `scanner.cli` that defines ``register(app: typer.Typer)`` contributes its commands,
so a feature adds a CLI module without editing this file.

Exit codes: 0 ok; 1 a check failed; 2 bad usage or bad config (one message naming file, key, problem).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import typer
from rich.console import Console

import scanner.cli as cli_package
from scanner.config import ConfigError
from scanner.evidence.warc import EvidenceWriteError
from scanner.store.db import StoreUnavailable

app = typer.Typer(
    name="scanner",
    help="pkscan: find unlicensed crypto platforms serving Pakistan, keep evidence, publish a blocklist.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if module_info.name in {"main"} or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"scanner.cli.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def run() -> None:
    from scanner.logs import setup_logging

    try:
        setup_logging()
        app()
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (StoreUnavailable, EvidenceWriteError) as exc:
        # One line for the operator (the database or the evidence disk refused, and the run is marked
        # failed); the traceback of the underlying error goes to the structured log.
        if exc.__cause__ is not None:
            logging.getLogger("scanner").error("%s", exc, exc_info=exc)
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
