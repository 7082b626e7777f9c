"""Structured logs: one JSON object per line on stderr (or readable text with SCANNER_LOG_FORMAT=text)."""

from __future__ import annotations

import logging
import os
import sys

from pythonjsonlogger.json import JsonFormatter

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def setup_logging(level: str | None = None) -> None:
    level = (level or os.environ.get("SCANNER_LOG_LEVEL") or "WARNING").upper()
    if level not in LEVELS:
        from scanner.config import ConfigError

        raise ConfigError(f"SCANNER_LOG_LEVEL: {level!r} is not a log level (one of {', '.join(LEVELS)})")
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("SCANNER_LOG_FORMAT", "json") == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"})
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
