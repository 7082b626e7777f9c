"""Freeze collection round 11 into the seventh held-out part, test7/ (every document of the round).

Run as ``python bench/realworld/freeze_test7.py`` (2026-12-07). Why: test6/ was scored once and its misses
studied (and fixed), so no existing part measures the next detector version without bias; round 11 was
collected only for test7/, from sources no other part holds (checked while collecting with
check_candidates.py, and again after rebasing on main right before freezing), and labelled by reading,
never by the detector. The whole pool (``pool-round11.csv`` and ``pool-round11/``) becomes test7/; the
rules (a source dev or another frozen part holds stops it; the pinned digest) are those of
freeze_common.py. test7/ is frozen once: it is not extended, before or after its scoring.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round11", "test7"))
