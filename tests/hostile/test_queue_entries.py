"""What a queued request may not carry in from its entry: the crawl sets it again itself.

Both queues (the shared one in Redis, the paused job's on disk) read an entry back with
`scanner.crawl.queue_entry.decode` and `admit`. Two things an entry names are never taken from it:
whether robots.txt is obeyed (the spider's ``rescope`` sets ``dont_obey_robotstxt`` from the target)
and the country a vantage point stands for (``vantage_country``, recorded with the capture: dropped,
then set by `scanner.crawl.vantage.VantageMiddleware` from the configuration).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy import Request

from scanner.config import Config
from scanner.crawl.queue_entry import admit, decode
from scanner.crawl.vantage import VANTAGE_COUNTRY, VantageMiddleware
from spiders.site import SiteSpider

from .conftest import write_config


def _spider(tmp_path: Path) -> SiteSpider:
    sites = [
        {"name": "obeys", "seeds": ["https://obeys.test/"], "allowed_domains": ["obeys.test"],
         "vantage": ["direct", "pk"]},
        {"name": "ignores", "seeds": ["https://ignores.test/"], "allowed_domains": ["ignores.test"],
         "obey_robots": False},
    ]  # fmt: skip
    targets = {"sites": sites, "vantage_points": {"pk": {"proxy": "http://127.0.0.2:3128", "country": "PK"}}}
    return SiteSpider(config=Config(write_config(tmp_path / "config", targets), env={}))


def _read(spider: SiteSpider, url: str, **meta: Any) -> Request:
    """An entry for ``url`` read back as either queue reads it (decoded, then admitted)."""
    entry = {"url": url, "callback": "parse", "errback": "failed", "meta": {"vantage": None, **meta}}
    request = decode(json.dumps(entry).encode(), spider)
    admit(request, spider, None)
    return request


def test_robots_choice_is_the_targets_not_the_entrys(tmp_path: Path) -> None:
    spider = _spider(tmp_path)

    asks_to_ignore = _read(spider, "https://obeys.test/private", target="obeys", dont_obey_robotstxt=True)
    asks_to_obey = _read(spider, "https://ignores.test/page", target="ignores", dont_obey_robotstxt=False)
    says_nothing = _read(spider, "https://obeys.test/page", target="obeys")

    assert asks_to_ignore.meta["dont_obey_robotstxt"] is False, "an entry lifted the target's robots.txt"
    assert asks_to_obey.meta["dont_obey_robotstxt"] is True
    assert says_nothing.meta["dont_obey_robotstxt"] is False


def test_vantage_country_is_dropped_and_set_again_from_the_configuration(tmp_path: Path) -> None:
    spider = _spider(tmp_path)
    vantages = VantageMiddleware(spider.config)

    direct = _read(spider, "https://obeys.test/a", target="obeys", vantage_country="PK")
    through_pk = _read(spider, "https://obeys.test/b", target="obeys", vantage="pk", vantage_country="IN")
    assert VANTAGE_COUNTRY not in direct.meta and VANTAGE_COUNTRY not in through_pk.meta
    for request in (direct, through_pk):
        vantages.process_request(request)

    # Recorded with the capture: a direct fetch claims no country, the pk vantage point's is its own.
    assert direct.meta.get(VANTAGE_COUNTRY) is None
    assert through_pk.meta[VANTAGE_COUNTRY] == "PK"



def _key_after_barrier(barrier, data_dir):
    from scanner.crawl.dupefilter import state_key

    barrier.wait()
    return state_key(data_dir, {})


def test_deployment_key_made_by_processes_starting_together_is_one_key(tmp_path):
    """Crawls of one deployment starting at the same moment must sign with one key, or each would
    fetch again what the others saw; none may find a key file still empty and replace it."""
    import multiprocessing

    from scanner.crawl.dupefilter import KEY_FILE

    context = multiprocessing.get_context("fork")
    with context.Manager() as manager, context.Pool(6) as pool:
        for attempt in range(15):
            data_dir = tmp_path / str(attempt)
            data_dir.mkdir()
            barrier = manager.Barrier(6)
            keys = set(pool.starmap(_key_after_barrier, [(barrier, data_dir)] * 6))
            assert len(keys) == 1, f"attempt {attempt}: {len(keys)} keys"
            assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILE]
            assert (data_dir / KEY_FILE).read_bytes() in keys
