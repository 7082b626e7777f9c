"""Freeze collection round 15 into the eleventh held-out part, test11/ (every document of the round).

Run as ``python bench/realworld/freeze_test11.py`` (2026-12-08). Why: the ten earlier parts hold only 42 flags
between them, so round 15 was collected for test11/ with flags first, from sources no other part holds (checked
with check_candidates.py while collecting, and again after rebasing on main before each run, against the dev
documents collected at the same time too), labelled by reading, never by the detector. Each run moves the pool
(``pool-round15.csv`` and ``pool-round15/``) into test11/; the rules (a source dev or another frozen part holds
stops it; the pinned digest) are those of freeze_common.py, which lets a part take a further pool only until it
is first scored. This script ran five times on 2026-12-08, before any scoring; test11/ is not extended after
its scoring. It holds three flags among 26 documents: the search tools' unheld Pakistani sources are nearly used
up, so test11/ adds little to recall and is mostly hard clears.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round15", "test11"))
