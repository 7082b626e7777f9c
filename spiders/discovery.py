"""``discovery``: follows outbound links from directories, news, Telegram and app-store pages, and
crawls the top of the discovery frontier (candidates that `scanner discover` sources named).

Every registrable domain (or hosted channel/app) linked from a page becomes a candidate platform
(`CandidateItem`, recorded with the page it was found on) and is crawled within
``pages_per_domain``; ``max_new_domains`` and ``max_pages`` bound the whole run.

    scrapy crawl discovery
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response, TextResponse

from scanner.crawl.items import CandidateItem, page_item
from scanner.crawl.spider import EvidenceSpider
from scanner.crawl.vantage import VANTAGE, spider_vantages
from scanner.detection import platform_key
from scanner.discovery.leads import is_whatsapp
from scanner.net.egress import EgressPolicy, EgressRefused


class DiscoverySpider(EvidenceSpider):
    name = "discovery"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.budget = self.config.targets.discovery
        self.seeds = [str(s) for s in self.budget.seeds]
        self.seed_keys = {platform_key(s) for s in self.seeds}
        self.egress = EgressPolicy.from_settings(self.config.settings.egress)
        # Where the discovery crawl fetches from (discovery.vantage, else default_vantage).
        self.vantage = spider_vantages(self.config, [self.budget.vantage])[0]
        self.pages: Counter[str] = Counter()  # requests scheduled per platform
        self.seen: set[str] = set()
        self.new_domains: set[str] = set()

    def fetchable(self, url: str) -> bool:
        """An internal address is never a candidate platform (its request is refused and counted)."""
        try:
            self.egress.check_url(url)
        except EgressRefused:
            return False
        return True

    def follow(self, url: str, key: str) -> Request:
        self.seen.add(url)
        self.pages[key] += 1
        return Request(url, callback=self.parse, errback=self.failed, meta={VANTAGE: self.vantage})

    def rescope(self, request: Request) -> str | None:
        """Why a request read back from the shared queue (`scanner.ops.sharedqueue`) is not one `follow`
        makes; None when it is."""
        if "target" in request.meta:
            return "target not crawled here"
        if request.meta.get(VANTAGE) != self.vantage:
            return "not the discovery crawl's vantage point"
        return None

    async def start(self) -> AsyncIterator[Request]:
        for seed in self.seeds:
            yield self.follow(seed, platform_key(seed))
        for url in self.frontier():
            key = platform_key(url)
            self.seed_keys.add(key)  # a candidate being crawled is not "found" again by its own pages
            yield self.follow(url, key)

    def frontier(self) -> list[str]:
        """The top of the discovery frontier: candidates discovery sources named, not crawled yet."""
        from sqlmodel import Session

        from scanner.crawl.context import CrawlContext
        from scanner.discovery.frontier import take_frontier

        words = self.config.discovery_words.pakistan
        with Session(CrawlContext.of(self.crawler).engine) as session:
            urls = [c.url for c in take_frontier(session, self.budget.frontier, words)]
            session.commit()
        return [url for url in urls if url not in self.seen and self.fetchable(url)]

    def parse(self, response: Response) -> Iterator[Any]:
        for page in self.with_rendered(response):
            yield from self.parse_page(page)

    def parse_page(self, response: Response) -> Iterator[Any]:
        yield page_item(response)
        if not isinstance(response, TextResponse):
            return
        for url in self.web_links(response):
            if is_whatsapp(url):  # a contact of this page's platform, nothing to crawl
                yield CandidateItem(url, response.url, capture_id=response.meta.get("capture_id"))
                continue
            key = platform_key(url)
            if key not in self.seed_keys and key not in self.new_domains and self.fetchable(url):
                if len(self.new_domains) >= self.budget.max_new_domains:
                    continue
                self.new_domains.add(key)
                yield CandidateItem(
                    url=url, found_on_url=response.url, capture_id=response.meta.get("capture_id")
                )
            if (
                url not in self.seen
                and self.pages[key] < self.budget.pages_per_domain
                and len(self.seen) < self.budget.max_pages
            ):
                yield self.follow(url, key)
