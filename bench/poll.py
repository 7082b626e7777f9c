"""Poller bench: ads parsed per second and where the time goes.

1. End to end against the simulated APIs (scanner.world through HTTP_PROXY, demo config, a temporary
   SQLite store): every P2P poller ``--rounds`` times with evidence, detection, snapshot and finding.
   Prints ads/s and the split of wall time: HTTP (request + body), politeness waits, and everything
   outside HTTP (parsing, evidence, detection, storage).
2. Parsing only, on one large captured Binance response (``--ads`` ads in one body, as a replayed
   capture: no network, no evidence): the adapter alone, then detection on the same body.

    .venv/bin/python bench/poll.py [--rounds 3] [--ads 20000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scanner.config import Config  # noqa: E402
from scanner.pollers import binance_p2p  # noqa: E402
from scanner.pollers.base import PollContext  # noqa: E402
from scanner.pollers.rails import rails_for  # noqa: E402
from scanner.pollers.runner import run_poll  # noqa: E402
from scanner.pollers.session import Fetched, HttpClient  # noqa: E402
from scanner.world import start_world  # noqa: E402
from scanner.world.apis import binance_ads  # noqa: E402

P2P_POLLERS = ("binance-p2p", "okx-p2p", "bybit-p2p")


def end_to_end(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, start_world(port=0) as world:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
            os.environ.pop(name, None)
        os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = world.proxy_url
        config = Config(REPO / "config" / "demo", env={"SCANNER_DATA_DIR": tmp})
        print(f"end to end, simulated APIs ({rounds} rounds, requests_per_second="
              f"{config.settings.p2p.requests_per_second:g}):")
        print(f"  {'poller':<12} {'ads':>6} {'requests':>8} {'wall s':>8} {'ads/s':>8} {'http':>6} {'waits':>6} "
              f"{'outside':>8} | {'parse+evidence':>14} {'detect':>6} {'store':>6} {'other':>6}")
        totals = [0, 0.0, 0.0, 0.0]
        for name in P2P_POLLERS:
            target = config.targets.poller(name)
            ads = requests = 0
            wall = http = waited = 0.0
            stages = {"fetch": 0.0, "detect": 0.0, "store": 0.0}
            for _ in range(rounds):
                waits: list[float] = []

                def sleep(seconds: float, waits: list[float] = waits) -> None:
                    waits.append(seconds)
                    time.sleep(seconds)

                outcome = run_poll(config, target, trigger="bench", sleep=sleep)
                if not outcome.ok:
                    raise SystemExit(f"bench poll failed: {outcome.error}")
                ads += len(outcome.ads)
                requests += outcome.responses
                wall += outcome.seconds
                http += outcome.http_seconds
                waited += sum(waits)
                for stage, seconds in outcome.stage_seconds.items():
                    stages[stage] += seconds
            outside = wall - http - waited
            parse = stages["fetch"] - http - waited
            print(f"  {name:<12} {ads:>6} {requests:>8} {wall:>8.2f} {ads / wall:>8.0f} {http / wall:>6.0%} "
                  f"{waited / wall:>6.0%} {outside / wall:>8.0%} | {parse / wall:>14.0%} "
                  f"{stages['detect'] / wall:>6.0%} {stages['store'] / wall:>6.0%} "
                  f"{(outside - parse - stages['detect'] - stages['store']) / wall:>6.0%}")
            totals = [totals[0] + ads, totals[1] + wall, totals[2] + http, totals[3] + waited]
        ads, wall, http, waited = totals
        print(f"  {'all':<12} {int(ads):>6} {'':>8} {wall:>8.2f} {ads / wall:>8.0f} {http / wall:>6.0%} "
              f"{waited / wall:>6.0%} {(wall - http - waited) / wall:>8.0%}")
        print("  (shares of wall time. http = waiting for and reading responses; waits = rate-limit sleeps;"
              " outside = everything else:\n   parsing and evidence (WARC + hash chain), detection, storage of"
              " snapshot, ads and finding,\n   other = run bookkeeping (run row, WARC file, config))")


class ReplayClient(HttpClient):
    """Answers every request with one captured body: the adapter's parsing cost alone."""

    def __init__(self, config: Config, body: bytes):
        super().__init__(config.settings)
        self.body = body

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None) -> Fetched:
        return Fetched(method, url, 200, "OK", [("Content-Type", "application/json")], self.body)


def large_binance_body(count: int) -> bytes:
    template = binance_ads("PKR", "USDT", "BUY")
    data = []
    for i in range(count):
        item = copy.deepcopy(template[i % len(template)])
        item["adv"]["advNo"] = str(11500000000000000000 + i)
        data.append(item)
    return json.dumps({"code": "000000", "message": None, "messageDetail": None, "data": data,
                       "total": count, "success": True}).encode()


def parsing_only(count: int) -> None:
    from scanner.detection import Document, analyze, load_lexicons

    config = Config(REPO / "config" / "demo")
    body = large_binance_body(count)
    rails = rails_for(config)
    best = float("inf")
    parsed = 0
    for _ in range(3):
        ctx = PollContext(adapter="binance_p2p", base_url="http://p2p.binance.test", platform="binance.test",
                          fiat="PKR", asset="USDT", settings=config.settings, client=ReplayClient(config, body),
                          rails=rails)
        start = time.perf_counter()
        # One side only: the replayed page already holds the whole reported total.
        ads = [binance_p2p._ad(ctx, item) for item in ctx.pages(lambda p, c=ctx: binance_p2p._page(c, "BUY", p), "BUY")]
        best = min(best, time.perf_counter() - start)
        parsed = len(ads)
    print(f"parsing only, one captured Binance response of {len(body) / 1e6:.1f} MB with {parsed} ads:")
    print(f"  adapter (json.loads + field checks + rails): {best:.3f} s = {parsed / best:,.0f} ads/s")
    # Detection walks JSON bodies up to its own size cap (scanner.detection.document.MAX_JSON_BYTES);
    # time it on the largest body under that cap.
    from scanner.detection.document import MAX_JSON_BYTES

    lexicons = load_lexicons(config.lexicon_dir)
    fitting = max(1, int(count * min(1.0, 0.9 * MAX_JSON_BYTES / len(body))))
    small = large_binance_body(fitting)
    start = time.perf_counter()
    analysis = analyze(Document("http://p2p.binance.test/bapi/c2c/v2/friendly/c2c/adv/search",
                                "application/json", small), lexicons, config.register)
    took = time.perf_counter() - start
    print(f"  detection on a {len(small) / 1e6:.1f} MB body of {fitting} ads: {took:.3f} s = "
          f"{fitting / took:,.0f} ads/s (verdict {analysis.verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ads", type=int, default=20000)
    args = parser.parse_args()
    end_to_end(args.rounds)
    parsing_only(args.ads)


if __name__ == "__main__":
    main()
