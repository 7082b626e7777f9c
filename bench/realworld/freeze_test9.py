"""Freeze collection round 13 into the ninth held-out part, test9/ (every document of the round).

Run as ``python bench/realworld/freeze_test9.py`` (2026-12-07). Why: test8/ was scored once, so no existing
part measures the next detector version without bias; round 13 was collected only for test9/, from sources
no other part holds (checked while collecting with check_candidates.py, and again after rebasing on main
right before freezing; also checked against the dev documents devhard2 collected at the same time), and
labelled by reading, never by the detector. The whole pool (``pool-round13.csv`` and ``pool-round13/``)
becomes test9/; the rules (a source dev or another frozen part holds stops it; the pinned digest) are those
of freeze_common.py. test9/ is frozen once: it is not extended, before or after its scoring. It holds four
flags among 40 documents, so it measures false flags far better than recall.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round13", "test9"))
