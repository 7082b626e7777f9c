"""Snapshots of complete polls and the payment-rail exposure derived from them.

A snapshot (`PollSnapshot` + its `P2PAd` rows) is written only for a poll that succeeded end to end,
inside the caller's transaction, so a failed poll leaves the previous snapshot as the latest one.
Each snapshot carries its per-rail figures (``rails`` JSON), so `exposure` reads snapshots only.

Figures per platform and rail: ads, distinct merchants, available volume in fiat (asset quantity x
price) and the median price. Ads with a price outside ``settings.p2p.price_band_pkr`` are stored and
counted (flagged ``suspicious_price``) but left out of the median, which they would otherwise skew.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from scanner.pollers.base import Ad, Market
from scanner.pollers.rails import RailMap
from scanner.store.models import P2PAd, Platform, PollSnapshot


@dataclass
class Figures:
    ads: int
    merchants: int
    available_fiat: float
    median_price: float | None


def figures(ads: list[Ad]) -> Figures:
    prices = [ad.price for ad in ads if not ad.suspicious_price]
    return Figures(
        ads=len(ads),
        merchants=len({ad.merchant_id for ad in ads}),
        available_fiat=round(sum(ad.available_fiat for ad in ads), 2),
        median_price=round(statistics.median(prices), 4) if prices else None,
    )


def rail_figures(ads: list[Ad], rails: RailMap) -> dict[str, dict[str, Any]]:
    """rail -> {ads, merchants, available_fiat, median_price, pakistani}; an ad counts for each of its rails."""
    by_rail: dict[str, list[Ad]] = {}
    for ad in ads:
        for rail in ad.payment_methods:
            by_rail.setdefault(rail, []).append(ad)
    pakistani = rails.pakistani
    return {
        rail: {**asdict(figures(rail_ads)), "pakistani": rail in pakistani}
        for rail, rail_ads in sorted(by_rail.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    }


def write_snapshot(
    session: Session,
    *,
    run_id: int | None,
    adapter: str,
    platform_id: int,
    fiat: str,
    asset: str,
    ads: list[Ad],
    markets: list[Market],
    rails: RailMap,
) -> PollSnapshot:
    total = figures(ads)
    snapshot = PollSnapshot(
        run_id=run_id,
        adapter=adapter,
        platform_id=platform_id,
        fiat=fiat,
        asset=asset,
        ads=total.ads,
        merchants=total.merchants,
        median_price=total.median_price,
        available_fiat=total.available_fiat,
        rails=rail_figures(ads, rails),
        markets=[m.symbol for m in markets],
    )
    session.add(snapshot)
    session.flush()
    assert snapshot.id is not None
    session.add_all(
        P2PAd(
            snapshot_id=snapshot.id,
            capture_id=ad.capture_id,
            ad_id=ad.ad_id[:64],
            side=ad.side,
            asset=ad.asset,
            fiat=ad.fiat,
            price=ad.price,
            min_amount=ad.min_amount,
            max_amount=ad.max_amount,
            available=ad.available,
            payment_methods=ad.payment_methods,
            raw_payment_methods=ad.raw_payment_methods,
            merchant_id=ad.merchant_id[:128],
            merchant_name=ad.merchant_name[:256],
            completion_rate=ad.completion_rate,
            order_count=ad.order_count,
            suspicious_price=ad.suspicious_price,
        )
        for ad in ads
    )
    return snapshot


@dataclass(frozen=True)
class ExposurePoint:
    """One platform's figures for one payment rail at one snapshot."""

    snapshot_id: int
    taken_at: datetime
    platform_id: int
    platform: str
    adapter: str
    fiat: str
    asset: str
    rail: str
    pakistani: bool
    ads: int
    merchants: int
    available_fiat: float
    median_price: float | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["taken_at"] = self.taken_at.isoformat()
        return data


def latest_snapshots(
    session: Session, platform_ids: set[int] | None = None
) -> list[tuple[PollSnapshot, str]]:
    """The newest snapshot per (platform, adapter, fiat, asset) with its platform key, oldest first:
    the current picture of each poll series (exposure's ``latest`` view and the bank rails feed)."""
    query = (
        select(PollSnapshot, Platform.key)
        .join(Platform, col(Platform.id) == col(PollSnapshot.platform_id))
        .order_by(col(PollSnapshot.taken_at), col(PollSnapshot.id))
    )
    if platform_ids is not None:
        query = query.where(col(PollSnapshot.platform_id).in_(platform_ids))
    newest: dict[tuple[int, str, str, str], tuple[PollSnapshot, str]] = {}
    for snapshot, key in session.exec(query):
        newest[(snapshot.platform_id, snapshot.adapter, snapshot.fiat, snapshot.asset)] = (snapshot, key)
    return sorted(newest.values(), key=lambda row: (row[0].taken_at, row[0].id or 0))


def exposure(
    session: Session, platform_id: int | None = None, since: datetime | None = None, *, latest: bool = False
) -> list[ExposurePoint]:
    """Exposure over time per platform and rail, oldest first.

    ``latest=True`` keeps only the newest snapshot per (platform, adapter, fiat, asset): the current
    picture a bank's payment-rail summary shows.
    """
    if latest:
        rows = latest_snapshots(session, None if platform_id is None else {platform_id})
        if since is not None:
            rows = [row for row in rows if row[0].taken_at >= since]
    else:
        query = (
            select(PollSnapshot, Platform.key)
            .join(Platform, col(Platform.id) == col(PollSnapshot.platform_id))
            .order_by(col(PollSnapshot.taken_at), col(PollSnapshot.id))
        )
        if platform_id is not None:
            query = query.where(PollSnapshot.platform_id == platform_id)
        if since is not None:
            query = query.where(col(PollSnapshot.taken_at) >= since)
        rows = list(session.exec(query))
    points = []
    for snapshot, key in rows:
        for rail, figs in snapshot.rails.items():
            points.append(
                ExposurePoint(
                    snapshot_id=snapshot.id or 0,
                    taken_at=snapshot.taken_at,
                    platform_id=snapshot.platform_id,
                    platform=key,
                    adapter=snapshot.adapter,
                    fiat=snapshot.fiat,
                    asset=snapshot.asset,
                    rail=rail,
                    pakistani=bool(figs.get("pakistani")),
                    ads=int(figs["ads"]),
                    merchants=int(figs["merchants"]),
                    available_fiat=float(figs["available_fiat"]),
                    median_price=figs.get("median_price"),
                )
            )
    return points
