"""Small server-rendered SVG charts: geometry here, markup in templates/_charts.html.

The functions only compute coordinates and labels; the template draws them with autoescaping, so
a label taken from a crawled page or an exchange's API (a rail name, a host) is text, never markup.
No script and no inline style: colours are SVG presentation attributes, which the page CSP allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# Distinguishable in print and for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def short_number(value: float) -> str:
    """1234567 -> '1.2M': axis labels that fit a small chart."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Tick:
    label: str
    x: float
    y: float
    anchor: str = "middle"  # SVG text-anchor: the ends of a time axis stay inside the chart


@dataclass
class LegendItem:
    label: str
    fill: str


@dataclass
class Chart:
    """What the template draws: bars, lines with their dots, markers, axis ticks and a legend."""

    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom
    bar_labels: bool = False  # horizontal bars carry their label and value; columns use the axis
    empty: bool = False


@dataclass
class Dot:
    x: float
    y: float
    title: str


@dataclass
class Line:
    label: str
    stroke: str
    points: str  # "x,y x,y" for <polyline points>
    dots: list[Dot]


@dataclass
class Marker:
    """A vertical rule at a moment (a decision on the score timeline)."""

    x: float
    label: str
    title: str


def bar_chart(title: str, items: Sequence[tuple[str, float]], width: int = 480, row: int = 20) -> Chart:
    """Horizontal bars, one row per item, the value written after the bar."""
    label_width, value_width, gap = 200.0, 60.0, 4.0
    height = max(len(items), 1) * row + 4
    chart = Chart(
        title,
        width,
        height,
        plot=(label_width, 0, width - value_width, height),
        bar_labels=True,
        empty=not items,
    )
    top = max((value for _, value in items), default=0) or 1
    span = width - label_width - value_width
    for index, (label, value) in enumerate(items):
        y = index * row + 2
        chart.bars.append(
            Bar(label, value, label_width, y, max(span * value / top, 1 if value else 0), row - gap,
                colour(0), f"{label}: {short_number(value)}")
        )  # fmt: skip
    return chart


def column_chart(
    title: str,
    categories: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    width: int = 560,
    height: int = 180,
) -> Chart:
    """Stacked columns: one per category (a week), one coloured part per stack (a status)."""
    left, top, right, bottom = 36.0, 6.0, width - 4.0, height - 22.0
    chart = Chart(title, width, height, plot=(left, top, right, bottom))
    totals = [sum(values[i] for values in stacks.values()) for i in range(len(categories))]
    peak = max(totals, default=0)
    chart.empty = peak == 0
    scale = (bottom - top) / (peak or 1)
    step = (right - left) / max(len(categories), 1)
    chart.legend = [LegendItem(name, colour(i)) for i, name in enumerate(stacks) if any(stacks[name])]
    for c, category in enumerate(categories):
        x, base = left + c * step + step * 0.15, bottom
        for s, (name, values) in enumerate(stacks.items()):
            value = values[c]
            if not value:
                continue
            h = value * scale
            base -= h
            chart.bars.append(
                Bar(
                    name,
                    value,
                    x,
                    base,
                    step * 0.7,
                    h,
                    colour(s),
                    f"{category} · {name}: {short_number(value)}",
                )
            )
        # Label every column when few, else about six of them.
        if len(categories) <= 6 or c % max(len(categories) // 6, 1) == 0:
            chart.x_ticks.append(Tick(category, x + step * 0.35, height - 6))
    chart.y_ticks = _value_ticks(peak, top, bottom, left)
    return chart


def line_chart(
    title: str,
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    markers: Sequence[tuple[datetime, str, str]] = (),
    width: int = 560,
    height: int = 160,
    y_max: float | None = None,
    value_label: str = "",
) -> Chart:
    """Lines over time, one per series; ``markers`` are (moment, short label, tooltip) rules."""
    left, top, right, bottom = 40.0, 12.0, width - 8.0, height - 22.0
    chart = Chart(title, width, height, plot=(left, top, right, bottom))
    moments = [t for points in series.values() for t, _ in points] + [t for t, _, _ in markers]
    values = [v for points in series.values() for _, v in points]
    if not values:
        chart.empty = True
        return chart
    start, end = min(moments), max(moments)
    span = (end - start).total_seconds() or 1.0
    peak = y_max if y_max is not None else max(values) or 1.0

    def x_of(moment: datetime) -> float:
        if end == start:
            return (left + right) / 2
        return left + (right - left) * (moment - start).total_seconds() / span

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(value / peak, 1.0)

    for index, (name, points) in enumerate(series.items()):
        ordered = sorted(points)
        coords = [(round(x_of(t), 1), round(y_of(v), 1)) for t, v in ordered]
        chart.lines.append(
            Line(
                name,
                colour(index),
                " ".join(f"{x},{y}" for x, y in coords),
                [
                    Dot(x, y, f"{name} {t:%Y-%m-%d %H:%M}: {short_number(v)}{value_label}")
                    for (x, y), (t, v) in zip(coords, ordered, strict=True)
                ],
            )
        )
        chart.legend.append(LegendItem(name, colour(index)))
    chart.markers = [Marker(round(x_of(t), 1), label, tooltip) for t, label, tooltip in markers]
    chart.x_ticks = [Tick(f"{start:%Y-%m-%d}", left, height - 6, "start")]
    if end.date() != start.date():
        chart.x_ticks.append(Tick(f"{end:%Y-%m-%d}", right, height - 6, "end"))
    chart.y_ticks = _value_ticks(peak, top, bottom, left)
    return chart


def _value_ticks(peak: float, top: float, bottom: float, left: float) -> list[Tick]:
    if not peak:
        return []
    return [
        Tick(short_number(peak * share), left - 4, bottom - (bottom - top) * share + 4)
        for share in (0, 0.5, 1)
    ]
