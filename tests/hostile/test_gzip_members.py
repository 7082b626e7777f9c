"""A body of many tiny gzip members (an API's or a capture's): decoded in time linear in it.

Each member started on a copy of everything after the last one (``unused_data``), so 4x the body cost
16x the time: 10 MB of empty members (500,000) took ~80 s of a poll's CPU after its fetch (outside
its deadline). The same work now reads the body 16 KB at a time. The capture test guards
`decoded_blocks` (this audit's; fed 1 MiB at a time it cost ~0.8 s a MiB of such members: linear
across blocks, so it passed this ratio all the same; warcio before it read the first member only).
(Scrapy's own gunzip, in the crawl, reads 64 KB at a time and was linear already.)
"""

from __future__ import annotations

import gzip
import io
import time
from collections.abc import Callable

from warcio.statusandheaders import StatusAndHeaders

from scanner.evidence.decoding import decoded_blocks
from scanner.net.http import decode_body

EMPTY_MEMBER = gzip.compress(b"")


def _cpu(work: Callable[[], object]) -> float:
    """Best of three CPU times (a loaded host only adds)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def _ratio(decode: Callable[[bytes], bytes], members: int) -> float:
    small, large = EMPTY_MEMBER * members, EMPTY_MEMBER * (4 * members)
    assert decode(large) == b""
    return _cpu(lambda: decode(large)) / max(_cpu(lambda: decode(small)), 1e-3)


def test_a_poll_answer_of_many_gzip_members_decodes_in_linear_time() -> None:
    ratio = _ratio(lambda body: decode_body(body, "gzip", 10 << 20), 40_000)
    assert ratio < 8, f"4x the members cost {ratio:.1f}x the time"


def test_a_capture_of_many_gzip_members_decodes_in_linear_time() -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Encoding", "gzip")], protocol="HTTP/1.1")
    ratio = _ratio(lambda body: b"".join(decoded_blocks(io.BytesIO(body), headers, 10 << 20)), 40_000)
    assert ratio < 8, f"4x the members cost {ratio:.1f}x the time"
