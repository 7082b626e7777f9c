"""Spider middleware: requests for pages likely to carry evidence are fetched first.

With breadth-first order (``DEPTH_PRIORITY = 1``) a page budget is spent on shallow pages; this adds
``PKSCAN_EVIDENCE_PRIORITY`` to requests whose URL matches one of ``PKSCAN_EVIDENCE_PATHS`` (P2P,
markets, deposits, fees, the Urdu site, app downloads, contact pages), so they win within a depth.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class EvidencePriorityMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        patterns = crawler.settings.getlist("PKSCAN_EVIDENCE_PATHS")
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
        self.boost = crawler.settings.getint("PKSCAN_EVIDENCE_PRIORITY", 10)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if self.pattern is not None and response is not None and self.pattern.search(request.url):
            request.priority += self.boost
            self.crawler.stats.inc_value("pkscan/evidence_priority")
        return request
