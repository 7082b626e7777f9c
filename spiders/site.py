"""``site``: crawls configured sites within their domains, depth and page budgets.

scrapy crawl site -a target=rupee-exchange      # one target from config targets.yaml
scrapy crawl site                               # every enabled site target

A target with several vantage points (``vantage: [direct, pk]``) has each page fetched from each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from scanner.config import SiteTarget
from scanner.crawl.items import CandidateItem, page_item
from scanner.crawl.spider import EvidenceSpider, host_in_domains
from scanner.crawl.vantage import VANTAGE, spider_vantages
from scanner.discovery.leads import LINK_HOSTS


class SiteSpider(EvidenceSpider):
    name = "site"

    def __init__(self, target: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        config = self.config
        self.target = target or None
        if self.target:
            try:
                sites = [config.targets.site(self.target)]
            except KeyError:
                known = ", ".join(s.name for s in config.targets.sites) or "none"
                raise ValueError(f"unknown site target {self.target!r} (known: {known})") from None
        else:
            sites = [s for s in config.targets.sites if s.enabled]
        self.sites = {s.name: s for s in sites}
        self.allowed_domains = sorted({d for s in sites for d in s.allowed_domains})
        self.domains = {s.name: tuple(d.lower() for d in s.allowed_domains) for s in sites}
        self.domain_union = tuple(d.lower() for d in self.allowed_domains)
        self.obey_robots = {
            s.name: config.settings.http.obey_robots if s.obey_robots is None else s.obey_robots
            for s in sites
        }
        # One link extraction per page (`web_links`), then sorted by host: the site's own links are
        # followed; its channels, apps and WhatsApp numbers are leads (candidates, contacts), never
        # followed here.
        self.led: set[tuple[str, str]] = set()
        self.seen: dict[str, set[str]] = {s.name: set() for s in sites}
        # Each page is fetched from every vantage point of its site (scanner.crawl.vantage).
        self.vantages = {s.name: spider_vantages(config, s.vantages) for s in sites}

    def follow(self, url: str, site: SiteTarget) -> Iterator[Request]:
        self.seen[site.name].add(url)
        for vantage in self.vantages[site.name]:
            meta = {
                "target": site.name,
                "dont_obey_robotstxt": not self.obey_robots[site.name],
                VANTAGE: vantage,
            }
            yield Request(url, callback=self.parse, errback=self.failed, meta=meta)

    def rescope(self, request: Request) -> str | None:
        """Why a request read back from the shared queue (another worker's, or anyone's who can write to
        Redis: `scanner.ops.sharedqueue`) is not one `follow` makes; None when it is. Its robots.txt
        choice is set again from its target, as `follow` sets it."""
        target = request.meta.get("target")
        site = self.sites.get(target) if isinstance(target, str) else None
        if site is None:
            return "target not crawled here"
        # As Scrapy's OffsiteMiddleware (the host name against allowed_domains), which an entry's
        # dont_filter passed; or as `parse_page` follows links (the host and port).
        parts = urlsplit(request.url)
        if not (
            host_in_domains((parts.hostname or "").rstrip("."), self.domain_union)
            or host_in_domains(parts.netloc.lower(), self.domain_union)
        ):
            return "outside the crawl's domains"
        if request.meta.get(VANTAGE) not in self.vantages[site.name]:
            return "not a vantage point of the target"
        request.meta["dont_obey_robotstxt"] = not self.obey_robots[site.name]
        return None

    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites.values():
            for seed in site.seeds:
                for request in self.follow(str(seed), site):
                    yield request

    def parse(self, response: Response) -> Iterator[Any]:
        for page in self.with_rendered(response):
            yield from self.parse_page(page)

    def parse_page(self, response: Response) -> Iterator[Any]:
        site = self.sites[response.meta["target"]]
        yield page_item(response, site.name)
        if not isinstance(response, TextResponse):
            return
        # Each link's host parsed once for both questions (Scrapy's url_is_from_any_domain parses per call).
        links = [(url, urlsplit(url).netloc.lower()) for url in self.web_links(response)]
        for url, host in links:
            if host_in_domains(host, LINK_HOSTS) and (url, response.url) not in self.led:
                self.led.add((url, response.url))  # each link once per page (it and its rendering)
                yield CandidateItem(url, response.url, "crawl-links", response.meta.get("capture_id"))
        if response.meta.get("depth", 0) >= site.max_depth:
            return
        seen = self.seen[site.name]
        for url, host in links:
            if len(seen) >= site.max_pages:
                break
            if url not in seen and host_in_domains(host, self.domains[site.name]):
                yield from self.follow(url, site)
