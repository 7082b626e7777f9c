"""Freeze collection round 6 into the third held-out part, test3/ (every document of the round).

Run as ``python bench/realworld/freeze_test3.py`` (2026-12-07). Why: test/ and test2/ have both been
scored and their misses studied, so they no longer measure the detector without bias; round 6 was
collected only for test3/, from sources no other part holds, and labelled by reading, never by the
detector. Unlike split_round4.py/split_round5.py nothing goes to dev: the whole pool
(``pool-round6.csv`` and ``pool-round6/``) becomes test3/.

A source (name, URL host or registrable parent domain) that dev, test/ or test2/ already holds stops
the freeze; only the ``source`` and ``url`` columns of the frozen parts' manifests are read. Run again
with a new pool before test3/ is first scored, it adds the pool to test3/ (an id or URL already there
stops it) and regenerates ``SHA256SUMS``; the digest pinned in
tests/detection/test_realworld_frozen.py has to be updated in the same commit. Once test3/ has been
scored it must not be extended (say so in README.md and stop using this script). test3/ was scored at
cfcdcee; the freezing itself now lives in freeze_common.py (shared with freeze_test4.py), which also
checks the pool against every later frozen part.
"""

from __future__ import annotations

from freeze_common import freeze

if __name__ == "__main__":
    raise SystemExit(freeze("round6", "test3"))
