"""A spider callback that raises on a fetched page is not a silent loss: the run says so."""

from __future__ import annotations

import sys

import pytest
from sqlmodel import Session, select

from scanner.store.models import Capture, PageAnalysis, Run
from tests.crawl.conftest import Crawled, make_config, run

pytestmark = pytest.mark.slow

SITE = {"name": "sprawl", "seeds": ["http://sprawl.test/page/0"], "allowed_domains": ["sprawl.test"],
        "max_depth": 2, "max_pages": 20, "schedule": "daily"}  # fmt: skip

# The site spider of `scanner crawl`, with its settings, extensions and pipelines, whose page callback
# raises on one page before yielding anything (it notes which): that page is captured but never analysed.
FAULTY_CRAWL = """
import os
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scanner.settings")
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from spiders.site import SiteSpider

class FaultySiteSpider(SiteSpider):
    raised = False  # not `failed`: that is the spider's errback

    def parse_page(self, response):
        # The first page after the seed, whichever the crawl's concurrency fetches first.
        if not FaultySiteSpider.raised and not response.url.endswith("/page/0"):
            FaultySiteSpider.raised = True
            with open(os.environ["PKSCAN_TEST_FAILED_URL"], "w") as note:
                note.write(response.url)
            raise LookupError("a bug met on this page")
        yield from super().parse_page(response)

process = CrawlerProcess(get_project_settings())
process.crawl(FaultySiteSpider, target="sprawl")
process.start()
"""


def test_a_page_the_spider_fails_on_degrades_the_run_and_is_named_in_its_summary(world, tmp_path):
    crawled = Crawled(world, make_config(tmp_path / "config", extra_sites=[SITE]), tmp_path / "data")
    failed_url = tmp_path / "failed-url"
    result = run(
        [sys.executable, "-c", FAULTY_CRAWL], {**crawled.env, "PKSCAN_TEST_FAILED_URL": str(failed_url)}
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with Session(crawled.engine) as session:
        run_row = session.exec(select(Run)).one()
        captured = set(session.exec(select(Capture.url)))
        analysed = set(session.exec(select(PageAnalysis.url)))
    assert failed_url.read_text() in captured - analysed  # the loss the run must not hide
    assert run_row.status == "degraded"
    assert run_row.error_summary.splitlines()[0] == (
        "the spider failed on 1 fetched pages: their analysis or links may be missing"
    )
    assert "sprawl.test: 1x spider LookupError" in run_row.error_summary
    assert run_row.stats["pkscan/spider_errors"] == 1
    assert len(analysed) >= 15  # every other page was analysed as usual
