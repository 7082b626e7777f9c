"""Named adapter modules (one small module per API or public service), imported on first use.

The pollers (`scanner.pollers.ADAPTERS`) and the discovery sources (`scanner.discovery.ADAPTERS`)
each keep a name -> module table; `load` is the one way to turn a configured name into its module,
so an unknown name fails the same way (naming the known ones) for both.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType


def load(registry: Mapping[str, str], name: str, what: str = "adapter") -> ModuleType:
    """The module registered as ``name``; KeyError names the known ones."""
    if name not in registry:
        raise KeyError(f"unknown {what} {name!r} (known: {', '.join(sorted(registry))})")
    return importlib.import_module(registry[name])
