"""Scrapy settings (scrapy.cfg -> scanner.settings), shared by ``scrapy crawl`` and ``scanner crawl``.

Politeness values (user agent, concurrency, timeouts, retries, size limits, redirects, robots.txt,
AutoThrottle) come from config/settings.yaml through `scanner.crawl.addon.PkscanAddon`, which also sets
the per-job JOBDIR (``<data_dir>/jobs/<spider>-<target>/``). Everything else is here: each pkscan
component does one job and is switched on below.
"""

import os

BOT_NAME = "pkscan"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ADDONS = {"scanner.crawl.addon.PkscanAddon": 0}

DOWNLOADER_MIDDLEWARES = {
    # A request's vantage point (targets.yaml vantage:) becomes its proxy, before the egress check.
    "scanner.crawl.vantage.VantageMiddleware": 40,
    # First: refuses file:, internal addresses ... before robots.txt or anything else is fetched.
    "scanner.crawl.egress.EgressMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # Scrapy's, naming a redirect to an invalid URL as such (scanner.crawl.redirects).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scanner.crawl.redirects.CheckedRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scanner.crawl.redirects.CheckedMetaRefreshMiddleware": 580,
    # Scrapy's proxy middleware, with NO_PROXY applied once per host (scanner.crawl.proxies).
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "scanner.crawl.proxies.EnvironmentProxyMiddleware": 750,
    "scanner.crawl.retry.BackoffRetryMiddleware": 550,
    # Scrapy's, with stacked content codings bounded in all (scanner.crawl.compression).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "scanner.crawl.compression.BoundedCompressionMiddleware": 590,
    # Scrapy's, with browsers' limits: a site cannot grow the cookie jar (and every request) without end.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scanner.crawl.cookies.BoundedCookiesMiddleware": 700,
    # Below decompression (590), before anything reads the page's text: a charset label browsers
    # ignore (charset=zlib made response.text raise) is ignored (scanner.crawl.charset).
    "scanner.crawl.charset.PageCharsetMiddleware": 586,
    # Below decompression (590), before anything parses the page: no element with thousands of
    # attributes (libxml2 reads them in time quadratic in their number; scanner.markup).
    "scanner.crawl.attribute_cap.AttributeCapMiddleware": 585,
    # Below decompression (590) and redirects (600): renders final, decoded HTML pages in Chromium.
    "scanner.crawl.rendering.RenderMiddleware": 580,
    # Next to the downloader: sees every exchange raw (robots.txt, redirects, errors, retries).
    "scanner.crawl.capture.WarcCaptureMiddleware": 950,
}
# The same URL fetched from two vantage points is two requests, not a duplicate.
REQUEST_FINGERPRINTER_CLASS = "scanner.crawl.vantage.VantageFingerprinter"
# The job's requests.seen holds fingerprints signed with the deployment's key: one written by anyone
# else never makes the crawl skip a page (scanner.crawl.dupefilter).
DUPEFILTER_CLASS = "scanner.crawl.dupefilter.JobDupeFilter"
# Names are resolved by the egress policy: every address a name resolves to is checked before connecting.
TWISTED_DNS_RESOLVER = "scanner.crawl.egress.EgressResolver"
# Only http and https are ever fetched (a page linking to file:///... must not read a local file), by
# Scrapy's HTTP/1.1 handler with a bounded response head (scanner.crawl.download).
DOWNLOAD_HANDLERS = {
    "file": None,
    "ftp": None,
    "s3": None,
    "data": None,
    "http": "scanner.crawl.download.BoundedHeadDownloadHandler",
    "https": "scanner.crawl.download.BoundedHeadDownloadHandler",
}
# robots.txt read to its first 500 KiB (RFC 9309), so its rules cannot make each URL check slow.
ROBOTSTXT_PARSER = "scanner.crawl.robots.CappedProtegoRobotParser"
SPIDER_MIDDLEWARES = {
    "scanner.crawl.priority.EvidencePriorityMiddleware": 700,
}
ITEM_PIPELINES = {
    "scanner.crawl.pipelines.DetectionPipeline": 300,
    "scanner.crawl.pipelines.StorePipeline": 400,
    "scanner.crawl.pipelines.CandidatePipeline": 500,
}
# Scrapy's remote-control port and telnet console: no control port on a crawler host.
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {
    # Scrapy's core stats, the item count taken by the item processor below (scanner.crawl.stats).
    "scrapy.extensions.corestats.CoreStats": None,
    "scanner.crawl.stats.CrawlCoreStats": 0,
    "scanner.crawl.runrecord.RunRecordExtension": 0,
    # Run stats: how often the downloader was full and how many of its requests waited (on captures).
    "scanner.crawl.saturation.DownloaderSaturation": 10,
    # Last: start-up objects are left out of garbage collection once everything is set up.
    "scanner.crawl.heap.FrozenHeapExtension": 1000,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Pickles spider.state into the job directory and unpickles it on resume; our spiders keep no state.
    "scrapy.extensions.spiderstate.SpiderState": None,
}

# Scrapy's in-memory stats without a hook on every attribute read (~35 stats a page; scanner.crawl.stats).
STATS_CLASS = "scanner.crawl.stats.CrawlStatsCollector"
# The item pipelines, counting each item they return (no task a page for CoreStats' signal receiver).
ITEM_PROCESSOR = "scanner.crawl.stats.CountingItemProcessor"

# Items and requests of one response processed at once. Scrapy starts this many asyncio tasks for
# every response however few it yields (default 100); ours yield one page item and its links.
CONCURRENT_ITEMS = 16

# Breadth-first, so page budgets are spent on shallow pages; evidence-rich paths first within a depth.
DEPTH_PRIORITY = 1
# JSON entries read back as checked GET requests, not Scrapy's pickles (scanner.crawl.queues): a job
# directory written by someone else must not run code in the crawler. Start requests too.
SCHEDULER_DISK_QUEUE = "scanner.crawl.queues.JsonFifoDiskQueue"
SCHEDULER_START_DISK_QUEUE = "scanner.crawl.queues.JsonFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
PKSCAN_EVIDENCE_PRIORITY = 10
PKSCAN_EVIDENCE_PATHS = [
    r"p2p",
    r"/markets?\b",
    r"deposit|withdraw|payment|fund",
    r"/fees?\b",
    r"/ur(/|$|\?)",
    r"/apps?\b|download|\.apk\b",
    r"contact|support",
    r"/(otc|trade|buy|sell)\b",
]

# Retries wait 0.5 s, 1 s, 2 s ... (or the server's Retry-After), at most 10 s.
PKSCAN_RETRY_BACKOFF_BASE = 0.5
PKSCAN_RETRY_BACKOFF_MAX = 10.0
# Findings of the platforms touched are re-judged this often during a crawl, and at its end.
PKSCAN_FINDINGS_REFRESH_SECONDS = 10.0
# Analyses are stored this many per transaction (and at least every second). Small: the crawl's
# capture appends wait for the SQLite write lock while a batch is being written.
PKSCAN_STORE_BATCH = 20
# Response bytes the scraper holds before downloads wait (Scrapy's default 5 MB). A page is held until
# its analysis is stored, with its parsed tree and decoded text (~10x its body): while the detection
# worker loads, 5 MB of small pages held ~60 MB. Batches for the worker are sent at a quarter of it too.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 2_000_000
# 1: detection and storing run in a worker process (scanner.crawl.detect_worker) so that they overlap
# with downloading; 0: both inline on the reactor (one process, e.g. when debugging).
PKSCAN_DETECTION_WORKERS = 1

if os.environ.get("REDIS_URL"):
    # Scale-out: several processes share one crawl's queue and duplicate filter (scanner.ops.scaleout).
    from scanner.ops.scaleout import redis_crawl_settings

    globals().update(redis_crawl_settings(os.environ["REDIS_URL"]))
