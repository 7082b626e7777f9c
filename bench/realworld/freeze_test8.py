"""Freeze collection round 12 into the eighth held-out part, test8/ (every document of the round).

Run as ``python bench/realworld/freeze_test8.py`` (2026-12-07). Why: test7/ was scored once and its false flag
studied (and fixed), so no existing part measures the next detector version without bias; round 12 was
collected only for test8/, from sources no other part holds (checked while collecting with
check_candidates.py, and again after rebasing on main right before freezing), and labelled by reading,
never by the detector. The whole pool (``pool-round12.csv`` and ``pool-round12/``) becomes test8/; the
rules (a source dev or another frozen part holds stops it; the pinned digest) are those of
freeze_common.py. test8/ is frozen once: it is not extended, before or after its scoring. It holds one flag
among 45 documents, so it measures false flags far better than recall.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round12", "test8"))
