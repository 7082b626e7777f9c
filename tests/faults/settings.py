"""Scrapy settings for the fault tests: the project's, with findings re-judged only at the end of a crawl."""

from scanner.settings import *  # noqa: F403

PKSCAN_FINDINGS_REFRESH_SECONDS = 3600.0
