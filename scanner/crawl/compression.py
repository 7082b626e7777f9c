"""Scrapy's HTTP compression middleware with a bound on stacked content codings.

Scrapy undoes every coding a response names (``Content-Encoding: gzip, gzip, …``), each layer
bounded by ``DOWNLOAD_MAXSIZE`` but not their number, in the reactor thread. A stack of stored gzip
layers costs nothing to send (~100 bytes a MiB a layer) and a head of 256 KiB can name 50,000 of
them: 40 layers around 1 MiB were 40 MiB of inflating, 2,700 (one header line) ~8 s of the crawl
process for one page, during which nothing else moved. Here the layers together may decode to
`STACK_BUDGET` times the limit (`scanner.evidence.decoding`, as the pollers' client); beyond that
the page is refused, named in the run's summary (its raw exchange is evidence already).
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

from scanner.evidence.decoding import StackBudget, StackTooLarge


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    def _handle_encoding(
        self, body: bytes, content_encoding: list[bytes], max_size: int
    ) -> tuple[bytes, list[bytes]]:
        to_decode, to_keep = self._split_encodings(content_encoding)
        budget = StackBudget(max_size)
        for encoding in to_decode:
            body = self._decode(body, encoding, max_size)
            try:
                budget.spend(len(body))
            except StackTooLarge as exc:
                raise IgnoreRequest(f"response {exc}: {len(to_decode)} layers") from None
        return body, to_keep
