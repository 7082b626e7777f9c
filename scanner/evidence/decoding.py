"""A recorded response body with its transfer and content encodings undone, in bounded memory.

The evidence keeps bodies as received, so a capture may be a decompression bomb: a few kilobytes of
brotli (1.6 KB for 1 GiB of zeros) or a chunk header announcing 2 GB. warcio's readers undo them a
block of *input* at a time: brotli inflated a 16 KB block whole (1 GiB, then 10 GiB, in one call) and
a chunk was read whole, before any limit could apply, in the officers' capture view and in
`verify_bundle` (a forged bundle only has to name another body digest to make it decode).
`decoded_blocks` yields at most `BLOCK` bytes at a time and raises `DecodedTooLarge` past its limit.

It reads what warcio's ``content_stream`` reads, so the digests of ordinary bodies do not change:
``Transfer-Encoding: chunked`` de-chunked (a body that is not chunked after all is taken as it is),
then ``Content-Encoding`` gzip (every member), deflate (zlib or raw), br, or zstd (which warcio does
not know: a page the crawl was sent in zstd, as Scrapy offers it, was shown to officers as its
compressed bytes), a stack of them last applied first (``gzip, br``: warcio and the views before
took it for one coding they did not know); an encoding it does not know leaves the body as it is
(under it, what is beneath stays coded, as the crawl keeps it), as does a body that fails to decode from its first block; a body that
fails later ends there.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

BLOCK = 1 << 20
FEED = 1 << 14  # input bytes handed to a decompressor at a time
CHUNK_HEADER = 64  # a chunk-size line longer than this is no chunk header (as warcio)
MAX_CHUNK = 2**31


# Content codings undone (browsers undo br and zstd whoever asked for them); in a stack of codings
# (``gzip, gzip``) the last applied is undone first, and one not known ends the stack there: what is
# under it is kept as it is (as Scrapy does in the crawl).
CONTENT_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})
# Each layer of a stack is bounded by the limit on a body, and all of them together by this many
# times it: a stack of stored gzip layers costs nothing to send (~100 bytes a MiB a layer) and a
# response head of 256 KiB can name 50,000 of them.
STACK_BUDGET = 4


class DecodedTooLarge(ValueError):
    """The decoded body would be larger than the limit asked for."""


class StackTooLarge(DecodedTooLarge):
    """The layers of a stack of content codings would decode to more than `STACK_BUDGET` times the limit."""


def split_codings(header: str) -> tuple[list[str], list[str]]:
    """A Content-Encoding value's codings to undo (the last applied first) and those kept, under the
    first one from the end that is not known (Scrapy's ``_split_encodings``, as the crawl reads them)."""
    kept = [c.strip().lower() for c in header.split(",") if c.strip()]
    undo: list[str] = []
    while kept and kept[-1] in CONTENT_CODINGS:
        undo.append(kept.pop())
    return undo, kept


def stack_too_large(limit: int) -> str:
    return f"content codings decode to more than {STACK_BUDGET * limit} bytes in all"


class StackBudget:
    """What the layers of one stack of content codings may decode to together: `STACK_BUDGET` times
    the limit on a body (one layer alone is bounded by the limit itself). The crawl's middleware, the
    pollers' client and the evidence readers spend from it as they decode."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, size: int) -> None:
        self.spent += size
        if self.limit and self.spent > STACK_BUDGET * self.limit:
            raise StackTooLarge(stack_too_large(self.limit))


def _dechunked(raw: IO[bytes]) -> Iterator[bytes]:
    """``raw``'s chunked transfer coding undone, a block at a time (the rest as it is if a chunk
    header does not parse, as browsers and warcio read a body sent as chunked that is not)."""
    while True:
        header = raw.readline(CHUNK_HEADER)
        try:
            if header[-2:] != b"\r\n":
                raise ValueError(header)
            size = int(header[:-2].split(b";")[0], 16)
            if not 0 <= size <= MAX_CHUNK:
                raise ValueError(header)
        except ValueError:
            yield header
            yield from iter(lambda: raw.read(BLOCK), b"")
            return
        if size == 0:
            return
        while size:
            block = raw.read(min(size, BLOCK))
            if not block:  # cut short: what there is
                return
            size -= len(block)
            yield block
        raw.read(2)  # the CRLF after the chunk


Inflater = Callable[[bytes], Iterator[bytes]]


def zlib_inflater(wbits: int, members: bool) -> Inflater:
    """gzip (``members``: every member, as browsers read them) or deflate, fed `FEED` bytes at a time:
    a new member starts on what the last one left (``unused_data``, a copy of the rest of its input),
    so a body of 500,000 empty gzip members fed whole cost time quadratic in it (~80 s for 10 MB).
    Raises ``zlib.error`` for data that is not such a stream."""
    state: dict[str, Any] = {"z": zlib.decompressobj(wbits), "done": False}

    def inflate(data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(view), FEED):
            pending: bytes | memoryview = view[start : start + FEED]
            while pending and not state["done"]:
                z = state["z"]
                out = z.decompress(pending, BLOCK)
                if out:
                    yield out
                if z.eof:
                    pending = z.unused_data
                    if members:
                        state["z"] = zlib.decompressobj(wbits)
                    else:
                        state["done"] = True  # the end of the stream (trailing bytes are ignored)
                else:
                    pending = z.unconsumed_tail

    return inflate


def _brotli_inflater() -> Inflater:
    import brotli

    decompressor = brotli.Decompressor()

    def inflate(data: bytes) -> Iterator[bytes]:
        if decompressor.is_finished():
            return
        out = decompressor.process(data, output_buffer_limit=BLOCK)
        while True:
            if out:
                yield out
            if decompressor.can_accept_more_data() or decompressor.is_finished():
                return
            out = decompressor.process(b"", output_buffer_limit=BLOCK)

    return inflate


def _zstd_inflater() -> Inflater:
    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    state = {"d": zstd.ZstdDecompressor()}

    def inflate(data: bytes) -> Iterator[bytes]:
        while True:
            d = state["d"]
            out = d.decompress(data, BLOCK)
            if out:
                yield out
            if d.eof:  # a frame ended: another may follow (as zstd and Scrapy read them)
                if not d.unused_data:
                    return
                data, state["d"] = d.unused_data, zstd.ZstdDecompressor()
            elif d.needs_input:
                return
            else:
                data = b""

    return inflate


def inflater(encoding: str, first: bytes) -> Inflater | None:
    """The decoder of one content coding (``first``: the start of its input); None for one not known."""
    if encoding in ("gzip", "x-gzip"):
        return zlib_inflater(16 + zlib.MAX_WBITS, members=True)
    if encoding == "deflate":  # zlib-wrapped as the standard says, or raw as some servers send it
        return zlib_inflater(zlib.MAX_WBITS if first[:1] == b"\x78" else -zlib.MAX_WBITS, members=False)
    if encoding == "br":
        return _brotli_inflater()
    if encoding == "zstd":
        return _zstd_inflater()
    return None


def decoded_blocks(raw: IO[bytes], http_headers: Any, limit: int) -> Iterator[bytes]:
    """The body in ``raw`` (a recorded payload at its start) decoded as its ``http_headers`` (warcio's
    StatusAndHeaders) say, in blocks of at most `BLOCK` bytes; `DecodedTooLarge` beyond ``limit`` (a
    layer of a stack of codings too, and the layers beyond `STACK_BUDGET` times it in all)."""
    get = http_headers.get_header if http_headers is not None else (lambda name: None)
    chunked = "chunked" in (get("Transfer-Encoding") or "").lower()
    blocks = _dechunked(raw) if chunked else iter(lambda: raw.read(BLOCK), b"")
    undo, _ = split_codings(get("Content-Encoding") or "")
    budget = StackBudget(limit) if len(undo) > 1 else None
    for coding in undo:
        blocks = _undone(blocks, coding, limit, budget)
    total = 0
    for block in blocks:
        total += len(block)
        if total > limit:
            raise DecodedTooLarge(f"decoded body larger than {limit} bytes")
        yield block


def _undone(blocks: Iterator[bytes], coding: str, limit: int, budget: StackBudget | None) -> Iterator[bytes]:
    """``blocks`` with one content coding undone (a body that fails to decode from its first block is
    taken as it is, as warcio does; one that fails later ends there); ``budget``: that of the stack
    this layer is one of."""
    total = 0
    inflate: Inflater | None = None
    first = True
    for block in blocks:
        if first:
            inflate = inflater(coding, block)
        pieces: Iterator[bytes] = inflate(block) if inflate is not None else iter((block,))
        try:
            for piece in pieces:
                total += len(piece)
                if total > limit:
                    raise DecodedTooLarge(f"decoded body larger than {limit} bytes")
                if budget is not None:
                    budget.spend(len(piece))
                yield piece
        except DecodedTooLarge:
            raise
        except Exception:  # noqa: BLE001 - zlib.error, brotli.error: what warcio does with them
            if not first or total:
                return  # decoded in part: it ends there
            inflate = None  # not encoded after all: as it is
            total += len(block)
            if total > limit:
                raise DecodedTooLarge(f"decoded body larger than {limit} bytes") from None
            yield block
        first = False
