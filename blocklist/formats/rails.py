"""`rails.json`: which Pakistani payment rails (banks, wallets, Raast) each listed platform uses.

Built from the newest P2P poll snapshot per platform and market; `by_rail` turns it around so a
bank finds the listed platforms whose advertisers take payment through it.
"""

from __future__ import annotations

import json
from typing import Any

from blocklist.view import FeedView, iso


def write(view: FeedView) -> bytes:
    platforms: dict[str, dict[str, Any]] = {}
    for entry in view.entries:
        record = platforms.setdefault(entry.platform, {"platform": entry.platform, "entries": []})
        record["entries"].append({"type": entry.type, "value": entry.value, "entry_id": entry.entry_id})
    by_rail: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(platforms):
        snapshots = view.rails.get(key, {}).get("snapshots", [])
        platforms[key]["snapshots"] = snapshots
        rails: dict[str, dict[str, Any]] = {}
        for snap in snapshots:
            for rail, stats in (snap.get("rails") or {}).items():
                total = rails.setdefault(rail, {"ads": 0, "merchants": 0, "available_fiat": 0.0, "fiats": []})
                total["ads"] += int(stats.get("ads") or 0)
                total["merchants"] += int(stats.get("merchants") or 0)
                total["available_fiat"] += float(stats.get("available_fiat") or 0.0)
                if snap["fiat"] not in total["fiats"]:
                    total["fiats"].append(snap["fiat"])
                by_rail.setdefault(rail, []).append(
                    {
                        "platform": key,
                        "adapter": snap["adapter"],
                        "fiat": snap["fiat"],
                        "asset": snap["asset"],
                        "taken_at": snap["taken_at"],
                        "ads": stats.get("ads"),
                        "merchants": stats.get("merchants"),
                        "available_fiat": stats.get("available_fiat"),
                        "median_price": stats.get("median_price"),
                    }
                )
        platforms[key]["rails"] = rails
    document = {
        "version": view.version,
        "generated_at": iso(view.generated_at),
        "publisher": view.publisher,
        "platforms": [platforms[k] for k in sorted(platforms)],
        "by_rail": {rail: by_rail[rail] for rail in sorted(by_rail)},
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
