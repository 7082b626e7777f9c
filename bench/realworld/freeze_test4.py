"""Freeze collection round 7 into the fourth held-out part, test4/ (every document of the round).

Run as ``python bench/realworld/freeze_test4.py`` (2026-12-07). Why: test/, test2/ and test3/ have all
been scored once and their misses studied, so none of them measures the next detector version without
bias; round 7 was collected only for test4/, from sources no other part holds, and labelled by reading,
never by the detector. The whole pool (``pool-round7.csv`` and ``pool-round7/``) becomes test4/; the
rules (a source dev or another frozen part holds stops it; extending before the first scoring; the
pinned digest) are those of freeze_common.py. Once test4/ has been scored it must not be extended.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round7", "test4"))
