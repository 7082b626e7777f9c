"""Freeze collection round 9 into the fifth held-out part, test5/ (every document of the round).

Run as ``python bench/realworld/freeze_test5.py`` (2026-12-07). Why: test/, test2/, test3/ and test4/ have
all been scored once and their misses studied, so none of them measures the next detector version without
bias; round 9 was collected only for test5/, from sources no other part holds (checked while collecting
with check_candidates.py), and labelled by reading, never by the detector. The whole pool
(``pool-round9.csv`` and ``pool-round9/``) becomes test5/; the rules (a source dev or another frozen part
holds stops it; the pinned digest) are those of freeze_common.py. test5/ is frozen once: it is not
extended, before or after its scoring.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round9", "test5"))
