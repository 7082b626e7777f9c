"""Payment-method identifiers -> canonical payment rails, from ``lexicons/p2p_payment_methods.yaml``.

The map is data: adding a wallet brand is a YAML change. It is validated by pydantic at load; a bad
file raises `ConfigError` naming the file, the key and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, model_validator

from scanner.config import Config, ConfigError, StrictModel, parse_model, read_yaml
from scanner.printable import visible

FILENAME = "p2p_payment_methods.yaml"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
MAX_UNKNOWN_RAIL = 64


def _loose(identifier: str) -> str:
    return _NON_ALNUM.sub("", identifier.lower())


class RailSpec(StrictModel):
    name: str = Field(min_length=1)
    pakistani: bool = False
    identifiers: list[str] = Field(min_length=1)


class RailFile(StrictModel):
    rails: list[RailSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_identifier_twice(self) -> RailFile:
        owner: dict[str, str] = {}
        for rail in self.rails:
            for identifier in [rail.name, *rail.identifiers]:
                key = _loose(identifier)
                if not key:
                    raise ValueError(f"rail {rail.name!r}: identifier {identifier!r} has no letters or digits")
                if owner.setdefault(key, rail.name) != rail.name:
                    raise ValueError(
                        f"identifier {identifier!r} is listed under both {owner[key]!r} and {rail.name!r}"
                    )
        return self


@dataclass(frozen=True)
class Rail:
    name: str
    pakistani: bool


class RailMap:
    """Maps an exchange's payment identifier to a canonical `Rail`."""

    def __init__(self, spec: RailFile):
        self.exact: dict[str, Rail] = {}
        self.loose: dict[str, Rail] = {}
        for item in spec.rails:
            rail = Rail(item.name, item.pakistani)
            for identifier in [item.name, *item.identifiers]:
                self.exact[identifier] = rail
                self.loose[_loose(identifier)] = rail

    def rail(self, identifier: str) -> Rail:
        """The canonical rail; an unknown identifier is its own (non-Pakistani) rail, named as the API
        wrote it with control and format characters written out and at most `MAX_UNKNOWN_RAIL`
        characters: it reaches officers' charts and banks' rails.json, where a bidi override or a
        zero-width space would make it look like a rail it is not."""
        found = self.exact.get(identifier) or self.loose.get(_loose(identifier))
        return found or Rail(visible(identifier.strip())[:MAX_UNKNOWN_RAIL], False)

    def names(self, identifiers: list[str]) -> list[str]:
        """Canonical rail names in first-seen order, without repeats."""
        seen: dict[str, None] = {}
        for identifier in identifiers:
            seen.setdefault(self.rail(identifier).name, None)
        return list(seen)

    @property
    def pakistani(self) -> frozenset[str]:
        return frozenset(r.name for r in self.exact.values() if r.pakistani)


def load_rails(path: Path) -> RailMap:
    if not path.exists():
        raise ConfigError(f"{path}: file not found (the P2P payment-method map)")
    return RailMap(parse_model(RailFile, read_yaml(path), path))


def rails_for(config: Config) -> RailMap:
    return load_rails(config.find(f"lexicons/{FILENAME}"))
