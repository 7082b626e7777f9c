"""Scrapy settings for the fault tests: the project's, with findings re-judged only at the end of a crawl
and analyses stored in small batches."""

from scanner.settings import *  # noqa: F403

PKSCAN_FINDINGS_REFRESH_SECONDS = 3600.0
# Analyses commit five at a time: "mid-crawl" (15 stored) comes early in the crawl, not at its close.
PKSCAN_STORE_BATCH = 5
