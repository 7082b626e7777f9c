"""Freeze collection round 14 into the tenth held-out part, test10/ (every document of the round).

Run as ``python bench/realworld/freeze_test10.py`` (2026-12-07). Why: test9/ holds four flags and test8/ one,
too few for a recall figure, so round 14 was collected for test10/ with flags first: from sources no other part
holds (checked while collecting with check_candidates.py, and again after rebasing on main right before
freezing, against the dev documents collected at the same time too), labelled by reading, never by the
detector. The whole pool (``pool-round14.csv`` and ``pool-round14/``) becomes test10/; the rules (a source dev
or another frozen part holds stops it; the pinned digest) are those of freeze_common.py. test10/ is frozen
once: it is not extended, before or after its scoring. It holds four flags among 45 documents, still few for
recall, and two of them are hard calls (a trading app's demo-mode P2P offers, an affiliate site's Urdu guide).
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round14", "test10"))
