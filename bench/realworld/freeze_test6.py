"""Freeze collection round 10 into the sixth held-out part, test6/ (every document of the round).

Run as ``python bench/realworld/freeze_test6.py`` (2026-12-07). Why: test5/ was scored once and its misses
studied, so no existing part measures the next detector version without bias; round 10 was collected only
for test6/, from sources no other part holds (checked while collecting with check_candidates.py, and again
after rebasing on main right before freezing), and labelled by reading, never by the detector. The whole
pool (``pool-round10.csv`` and ``pool-round10/``) becomes test6/; the rules (a source dev or another frozen
part holds stops it; the pinned digest) are those of freeze_common.py. test6/ is frozen once: it is not
extended, before or after its scoring.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round10", "test6"))
