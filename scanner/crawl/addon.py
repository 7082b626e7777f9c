"""Config -> Scrapy settings, and the job directory; enabled by ``ADDONS`` in `scanner.settings`.

An add-on runs after the spider is created and before Scrapy reads its settings, so the same mapping
applies to ``scanner crawl`` and ``scrapy crawl``. Values are set at ``addon`` priority: the project
settings module and ``-s NAME=VALUE`` still override them.

config/settings.yaml ``http``   Scrapy setting
==============================  ==============================================================
user_agent                      USER_AGENT (also ROBOTSTXT_USER_AGENT)
concurrency                     CONCURRENT_REQUESTS
per_domain_concurrency          CONCURRENT_REQUESTS_PER_DOMAIN, AUTOTHROTTLE_TARGET_CONCURRENCY
timeout_seconds                 DOWNLOAD_TIMEOUT
max_response_bytes              DOWNLOAD_MAXSIZE (DOWNLOAD_WARNSIZE = a quarter of it)
retries                         RETRY_TIMES (backoff: scanner.crawl.retry)
max_redirects                   REDIRECT_MAX_TIMES
obey_robots                     ROBOTSTXT_OBEY (per target: ``obey_robots`` in targets.yaml)
autothrottle                    AUTOTHROTTLE_ENABLED
download_delay_seconds          DOWNLOAD_DELAY
==============================  ==============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.config import Config

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings


def scrapy_settings(config: Config) -> dict[str, Any]:
    http = config.settings.http
    robots = http.obey_robots or any(site.obey_robots for site in config.targets.sites)
    return {
        "USER_AGENT": http.user_agent,
        "ROBOTSTXT_USER_AGENT": http.user_agent,
        "CONCURRENT_REQUESTS": http.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": http.per_domain_concurrency,
        "DOWNLOAD_TIMEOUT": http.timeout_seconds,
        "DOWNLOAD_MAXSIZE": http.max_response_bytes,
        "DOWNLOAD_WARNSIZE": max(http.max_response_bytes // 4, 1024),
        "RETRY_ENABLED": http.retries > 0,
        "RETRY_TIMES": http.retries,
        "REDIRECT_MAX_TIMES": http.max_redirects,
        # Targets that opt out of robots.txt get dont_obey_robotstxt in their requests' meta.
        "ROBOTSTXT_OBEY": robots,
        "AUTOTHROTTLE_ENABLED": http.autothrottle,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(http.per_domain_concurrency),
        "AUTOTHROTTLE_START_DELAY": max(http.download_delay_seconds, 0.5),
        "DOWNLOAD_DELAY": http.download_delay_seconds,
    }


class PkscanAddon:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PkscanAddon:
        return cls(crawler)

    def update_settings(self, settings: Settings) -> None:
        from scanner.crawl.context import CrawlContext

        context = CrawlContext.of(self.crawler)
        settings.update(scrapy_settings(context.config), priority="addon")
        job = context.prepare_job()
        settings.set("JOBDIR", str(job.directory), priority="addon")
