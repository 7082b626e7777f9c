"""Crawl benchmark: the full pipeline (WARC capture, hash chain, detection, findings) against a bare
Scrapy spider that only follows links, on the simulated web's big generated site (sprawl.test).

Run: ``.venv/bin/python bench/crawl.py [--pages 2000]`` (``--pages 10000`` for the memory target).
Both crawls run in child processes with the same concurrency, against the same simulated web served
from this process; each child reports its own crawl time (Scrapy's elapsed time, so start-up and
schema upgrades are not counted) and its peak RSS. Targets (issue 13): full/bare pages/s ratio >= 0.8;
peak RSS of the full pipeline < 300 MB for 10,000 pages. The store is upgraded (``scanner db upgrade``)
before the full crawl, so that it starts on a current schema as crawls of a store in use do;
``--fresh-store`` crawls into a new database, whose migrations the crawl process runs. CPU seconds
are printed too (crawl process and detection worker): on a loaded or small machine they are steadier
than pages/s. "CPU while crawling" leaves start-up out (the run's ``pkscan/crawl_cpu_seconds``, and
the same span of the bare crawl): the ratio of bare to full per page is the pages/s ratio a host
would see where the crawl process, the bottleneck, has a core to itself. Of the full crawl process's
CPU, its capture thread's (WARC records, digests, fdatasync, the chain's SQL; the run's
``pkscan/capture_thread_cpu_seconds``) is printed a page too. ``--profile FILE`` writes cProfile stats of the full crawl to FILE and of the detection
worker to FILE.worker. ``--rounds N`` alternates bare and full crawls N times (each full crawl into a
new data directory) and prints the median ratio and CPU per page: on a shared machine single runs
move with the load. "downloader full" is the share of time each crawl's downloader held
CONCURRENT_REQUESTS requests, and how many were in middlewares (`scanner.crawl.saturation`: in the
full crawl mostly responses waiting for their capture, which hold a place no transfer can use).
"context switches" are the crawl process's while crawling, a page (all threads; the run's
``pkscan/crawl_voluntary_switches`` and ``..._involuntary_switches``): voluntary ones are a thread
waiting for the interpreter lock or a wake-up (the capture thread, the detection worker's feeders),
which a bare crawl has next to none of; involuntary ones are preemption by the host's load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONCURRENCY = {"concurrency": 32, "per_domain_concurrency": 8}


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    from scanner.crawl.worker_process import peak_rss_mb  # the same measure as the worker's own

    return peak_rss_mb()


def child_full(pages: int) -> None:
    """Run ``scanner crawl site --target sprawl`` in this process, print its run figures."""
    from scanner.cli.main import app
    from scanner.config import Config
    from scanner.crawl.runrecord import SWITCHES
    from scanner.store.db import open_store
    from scanner.store.models import Run

    try:
        app(["crawl", "site", "--target", "sprawl"], standalone_mode=False)
    except SystemExit:
        pass
    from sqlmodel import Session, select

    with Session(open_store(Config())) as session:
        run = session.exec(select(Run).order_by(Run.id.desc())).first()  # type: ignore[union-attr]
    assert run is not None
    # The detection worker reports its own peak (RUSAGE_CHILDREN saw only the children this process
    # waited for, not the pool's worker: it printed ~105 MB whatever the worker held).
    worker_mb = run.stats.get("pkscan/detection_worker_peak_rss_mb", 0.0)
    print(json.dumps({"pages": run.pages, "seconds": run.stats["elapsed_time_seconds"], "status": run.status,
                      "rss_mb": _peak_rss_mb(), "worker_rss_mb": worker_mb,
                      "cpu": _cpu_seconds(), "worker_cpu": run.stats.get("pkscan/detection_worker_cpu_seconds", 0.0),
                      "crawl_cpu": run.stats.get("pkscan/crawl_cpu_seconds", 0.0),
                      "capture_cpu": run.stats.get("pkscan/capture_thread_cpu_seconds", 0.0),
                      "switches": [run.stats.get(name, 0) for name in SWITCHES], **_saturation(run.stats)}))  # fmt: skip


def _switches() -> list[int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return [usage.ru_nvcsw, usage.ru_nivcsw]


def _saturation(stats: dict[str, float]) -> dict[str, float]:
    from scanner.crawl.saturation import FULL_SHARE, WAITING_MEAN

    return {"downloader_full": stats.get(FULL_SHARE, 0.0), "downloader_waiting": stats.get(WAITING_MEAN, 0.0)}


def child_bare(pages: int, proxy: str) -> None:
    """A Scrapy spider that only follows links: no evidence, no detection, no database."""
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor

    from scanner import settings as scanner_settings

    class Bare(scrapy.Spider):
        name = "bare"
        seen: set[str] = set()
        links = LinkExtractor(allow_domains=["sprawl.test"])

        async def start(self):  # type: ignore[no-untyped-def]
            self.seen.add("http://sprawl.test/page/0")
            yield scrapy.Request("http://sprawl.test/page/0")

        def parse(self, response):  # type: ignore[no-untyped-def]
            for link in self.links.extract_links(response):
                if len(self.seen) >= pages:
                    break
                if link.url not in self.seen:
                    self.seen.add(link.url)
                    yield scrapy.Request(link.url)

    os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = proxy
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "CONCURRENT_REQUESTS": CONCURRENCY["concurrency"],
            "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY["per_domain_concurrency"],
            "CONCURRENT_ITEMS": scanner_settings.CONCURRENT_ITEMS,  # same as the full pipeline's
            "TELNETCONSOLE_ENABLED": False,
            # Measurement only (ten samples a second), as in the full crawl's settings.
            "EXTENSIONS": {"scanner.crawl.saturation.DownloaderSaturation": 10},
            "REMOTE_CONTROL_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "DEPTH_PRIORITY": 1,
            "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
            "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        }
    )
    crawler = process.create_crawler(Bare)
    clock: dict[str, tuple[float, list[int]]] = {}  # CPU and switches while crawling, as the full run records them
    for moment, signal in (("open", signals.spider_opened), ("closed", signals.spider_closed)):
        note = lambda moment=moment: clock.setdefault(moment, (time.process_time(), _switches()))  # noqa: E731
        crawler.signals.connect(note, signal=signal, weak=False)  # weak: a lambda would be collected
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0), "seconds": stats["elapsed_time_seconds"],
                      "status": stats.get("finish_reason"), "rss_mb": _peak_rss_mb(), "cpu": _cpu_seconds(),
                      "crawl_cpu": clock["closed"][0] - clock["open"][0],
                      "switches": [b - a for a, b in zip(clock["open"][1], clock["closed"][1], strict=True)],
                      **_saturation(stats)}))  # fmt: skip


def _config(directory: Path, pages: int) -> Path:
    import yaml

    demo = REPO / "config" / "demo"
    directory.mkdir(parents=True)
    settings = yaml.safe_load((demo / "settings.yaml").read_text())
    settings["inherit"] = str(REPO / "config")
    settings.pop("data_dir", None)
    settings["http"].update(CONCURRENCY)
    (directory / "settings.yaml").write_text(yaml.safe_dump(settings))
    site = {"name": "sprawl", "seeds": ["http://sprawl.test/page/0"], "allowed_domains": ["sprawl.test"],
            "max_depth": 20, "max_pages": pages, "schedule": "daily"}  # fmt: skip
    (directory / "targets.yaml").write_text(yaml.safe_dump({"sites": [site]}))
    for name in ("licensed.yaml", "schedules.yaml"):
        (directory / name).write_text((demo / name).read_text())
    return directory


def _run_child(args: list[str], env: dict[str, str]) -> dict[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        sys.exit(f"child {args[0]} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall"] = time.monotonic() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--child", choices=["full", "bare"])
    parser.add_argument("--proxy", default="")
    parser.add_argument("--profile", default="", help="write cProfile stats of the full crawl to this file")
    parser.add_argument("--rounds", type=int, default=1,
                        help="bare and full crawls alternately this many times; prints the median ratio (a shared machine's load moves single runs)")  # fmt: skip
    parser.add_argument("--fresh-store", action="store_true",
                        help="crawl into a new database: the crawl process runs the migrations (Alembic, ~11 MB more)")  # fmt: skip
    options = parser.parse_args()
    if options.child == "full":
        if options.profile:
            import cProfile

            os.environ["PKSCAN_WORKER_PROFILE"] = options.profile + ".worker"

            cProfile.runctx("child_full(options.pages)", globals(), {"options": options}, options.profile)
            return None
        return child_full(options.pages)
    if options.child == "bare":
        return child_bare(options.pages, options.proxy)

    from scanner.world import start_world

    rounds = []
    with start_world(sprawl_pages=max(options.pages * 2, 20_000)) as world:
        for number in range(options.rounds):
            with tempfile.TemporaryDirectory(prefix="pkscan-bench-") as tmp:
                rounds.append(_round(Path(tmp), world.proxy_url, options))
            if options.rounds > 1:
                print(
                    f"round {number + 1}: ratio {rounds[-1][2]:.2f}, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )

    bare, full, ratio, warc_mb = rounds[-1]
    print(f"pages target          {options.pages}")
    print(f"bare scrapy           {bare['pages']:6.0f} pages in {bare['seconds']:6.1f} s = {_rate(bare):7.1f} pages/s, "
          f"peak RSS {bare['rss_mb']:.0f} MB, CPU {bare['cpu']:.1f} s")  # fmt: skip
    print(f"full pipeline         {full['pages']:6.0f} pages in {full['seconds']:6.1f} s = {_rate(full):7.1f} pages/s, "
          f"peak RSS {full['rss_mb']:.0f} MB + detection worker {full['worker_rss_mb']:.0f} MB "
          f"(run {full['status']}, {'new store' if options.fresh_store else 'current schema'}, WARC {warc_mb:.1f} MB), CPU {full['cpu']:.1f} s + worker {full['worker_cpu']:.1f} s")  # fmt: skip
    print(f"ratio full/bare       {ratio:.2f}  (target >= 0.8)")
    print(f"CPU while crawling    bare {_per_page(bare, 'crawl_cpu'):.2f} ms a page, full crawl process "
          f"{_per_page(full, 'crawl_cpu'):.2f} ms (start-up left out; its capture thread {_per_page(full, 'capture_cpu'):.2f} ms): "
          f"their ratio {bare['crawl_cpu'] / bare['pages'] / (full['crawl_cpu'] / full['pages']):.2f}")  # fmt: skip
    print(f"downloader full       bare {bare['downloader_full']:.0%} of the time, full {full['downloader_full']:.0%}; "
          f"its requests in middlewares (neither transferring nor queued: the capture), mean bare {bare['downloader_waiting']:.1f}, "
          f"full {full['downloader_waiting']:.1f} of {CONCURRENCY['concurrency']}")  # fmt: skip
    print(f"context switches      a page while crawling (voluntary + involuntary, all threads): bare {_switches_a_page(bare)}, "
          f"full crawl process {_switches_a_page(full)}")  # fmt: skip
    together = full["rss_mb"] + full["worker_rss_mb"]
    print(
        f"peak RSS together     {together:.0f} MB, crawler + detection worker (target < 300 MB at 10,000 pages)"
    )
    if len(rounds) > 1:
        ratios = sorted(r[2] for r in rounds)
        per_page = _per_page
        print(f"over {len(rounds)} rounds    ratio median {statistics.median(ratios):.2f} "
              f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}); CPU per page, medians: bare "
              f"{statistics.median(per_page(r[0], 'cpu') for r in rounds):.2f} ms, full crawl process "
              f"{statistics.median(per_page(r[1], 'cpu') for r in rounds):.2f} ms + worker "
              f"{statistics.median(per_page(r[1], 'worker_cpu') for r in rounds):.2f} ms (start-up included)")  # fmt: skip
        cpu_ratios = [per_page(r[0], "crawl_cpu") / per_page(r[1], "crawl_cpu") for r in rounds]
        print(f"while crawling        CPU per page, medians: bare {statistics.median(per_page(r[0], 'crawl_cpu') for r in rounds):.2f} ms, "
              f"full crawl process {statistics.median(per_page(r[1], 'crawl_cpu') for r in rounds):.2f} ms "
              f"(capture thread {statistics.median(per_page(r[1], 'capture_cpu') for r in rounds):.2f} ms); "
              f"their ratio median {statistics.median(cpu_ratios):.2f} (min {min(cpu_ratios):.2f}, max {max(cpu_ratios):.2f}): "
              "the pages/s ratio where the crawl process has a core to itself")  # fmt: skip
        switches = [sum(r[1]["switches"]) / r[1]["pages"] for r in rounds]
        bare_switches = [sum(r[0]["switches"]) / r[0]["pages"] for r in rounds]
        print(f"context switches      a page while crawling (voluntary + involuntary), medians: bare {statistics.median(bare_switches):.2f}, "
              f"full crawl process {statistics.median(switches):.2f}")  # fmt: skip


def _switches_a_page(figures: dict[str, Any]) -> str:
    voluntary, involuntary = figures["switches"]
    return f"{voluntary / figures['pages']:.2f} + {involuntary / figures['pages']:.2f}"


def _per_page(figures: dict[str, float], key: str) -> float:
    """Milliseconds of ``figures[key]`` (CPU seconds) per page crawled."""
    return 1000 * figures[key] / figures["pages"]


def _rate(figures: dict[str, float]) -> float:
    return figures["pages"] / figures["seconds"]


def _round(
    tmp: Path, proxy_url: str, options: argparse.Namespace
) -> tuple[dict[str, float], dict[str, float], float, float]:
    """One bare crawl then one full crawl into a new data directory: (bare, full, ratio, WARC MB)."""
    env = dict(os.environ)
    for var in ("SCANNER_DATABASE_URL", "NO_PROXY", "no_proxy", "REDIS_URL"):
        env.pop(var, None)
    env.update(SCANNER_CONFIG_DIR=str(_config(tmp / "config", options.pages)),
               SCANNER_DATA_DIR=str(tmp / "data"), HTTP_PROXY=proxy_url, http_proxy=proxy_url)  # fmt: skip
    bare = _run_child(["--child", "bare", "--pages", str(options.pages), "--proxy", proxy_url], env)
    if not options.fresh_store:  # as a store in use: the crawl starts on a current schema
        subprocess.run([sys.executable, "-m", "scanner.cli.main", "db", "upgrade"], env=env, cwd=REPO,
                       check=True, capture_output=True)  # fmt: skip
    profile = ["--profile", str(Path(options.profile).resolve())] if options.profile else []
    full = _run_child(["--child", "full", "--pages", str(options.pages), *profile], env)
    warc_mb = sum(p.stat().st_size for p in (tmp / "data" / "warc").glob("*.warc.gz")) / 2**20
    return bare, full, _rate(full) / _rate(bare), warc_mb


if __name__ == "__main__":
    main()
