"""Fault-injection tests: real crawls, polls and databases, killed or cut off mid-run.

The simulated web, configs and CLI helpers are the crawl tests' (`tests.crawl.conftest`).
"""

from __future__ import annotations

from tests.crawl.conftest import world

__all__ = ["world"]
