"""Host names found in text the investigated people wrote, in time linear in the text.

A pattern for host names (labels, each followed by its dot, then a top-level domain) is tried by
``finditer``/``sub`` at every position; in a chain of labels each try reads the chain to its end,
so a cell or page holding "a.a.a.a…" costs time quadratic in its length: 1.8 s for 16 KB, hours
for a megabyte. `finditer_chains` finds the same matches: a try that fails from one start fails
from every later start in the same chain of labels (those tries read the same top-level-domain
candidates, or fewer, and whether a candidate fits depends only on where it is), so the search goes
on after the chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ChainPattern:
    """A host-name pattern and how its matches are made, for `finditer_chains`.

    ``starts`` finds where a match may begin; ``labels`` reads, from such a start, the labels (each
    with its dot) the pattern itself would read, exactly as the pattern defines a label; ``run``
    reads the characters of one label (at least the one a start begins with).
    """

    pattern: re.Pattern[str]
    starts: re.Pattern[str]
    labels: re.Pattern[str]
    run: re.Pattern[str]


def finditer_chains(chain: ChainPattern, text: str) -> Iterator[re.Match[str]]:
    """``chain.pattern.finditer(text)``, the same matches, in linear time."""
    pos = 0
    while (start := chain.starts.search(text, pos)) is not None:
        at = start.start()
        found = chain.pattern.match(text, at)
        if found is not None:
            yield found
            pos = max(found.end(), at + 1)
            continue
        labels = chain.labels.match(text, at) or chain.run.match(text, at)
        pos = labels.end() if labels is not None and labels.end() > at else at + 1


def sub_chains(chain: ChainPattern, replacement: str, text: str) -> str:
    """``chain.pattern.sub(replacement, text)`` (a plain replacement string), in linear time."""
    parts: list[str] = []
    done = 0
    for found in finditer_chains(chain, text):
        parts += (text[done : found.start()], replacement)
        done = found.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)
