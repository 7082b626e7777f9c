"""The compiled detection vocabulary of a configuration, built once and shared by every caller.

Compiling the lexicons takes a noticeable fraction of a second; crawl, pollers, re-verification,
re-judging and ``scanner analyze`` all ask for them, so they are compiled once per `Config` and
kept as long as that Config lives. `Lexicons` is immutable, so sharing it is safe.
"""

from __future__ import annotations

from scanner.config import Config
from scanner.detection.lexicon import Lexicons, load_lexicons


def lexicons_for(config: Config) -> Lexicons:
    """``config``'s lexicons (its ``lexicons/`` dir), compiled on first use."""
    return config.built("lexicons", lambda: load_lexicons(config.lexicon_dir))
