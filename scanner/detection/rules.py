"""The compiled detection vocabulary of a configuration, built once and shared by every caller.

Compiling the lexicons takes a noticeable fraction of a second; crawl, pollers, re-verification,
re-judging and ``scanner analyze`` all ask for them, so they are compiled once per `Config` and
kept as long as that Config lives. `Lexicons` is immutable, so sharing it is safe.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scanner.config import Config
from scanner.detection.lexicon import Lexicons, load_lexicons

_compiled: WeakKeyDictionary[Config, Lexicons] = WeakKeyDictionary()


def lexicons_for(config: Config) -> Lexicons:
    """``config``'s lexicons (its ``lexicons/`` dir), compiled on first use."""
    lexicons = _compiled.get(config)
    if lexicons is None:
        lexicons = _compiled[config] = load_lexicons(config.lexicon_dir)
    return lexicons
