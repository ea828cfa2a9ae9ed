"""Geometry of the server-rendered SVG bar chart of billing months.

The template draws the bars from these numbers with SVG attributes and CSS
classes only, because the Content Security Policy allows no inline styles
and the portal loads no chart library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from portal.partner.billing import TrendPoint

WIDTH = 720
HEIGHT = 260
LEFT = 64
RIGHT = 8
TOP = 12
BOTTOM = 40
# Height of the stub drawn for a month that is not fetched yet.
MISSING_HEIGHT = 3
TICKS = 4


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    missing: bool
    current: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    left: int
    right: int
    baseline: float


def nice_maximum(value: int) -> int:
    """Round a maximum up to 1, 2, 2.5 or 5 times a power of ten, at least 1."""
    if value <= 0:
        return 1
    magnitude: int = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        candidate = int(math.ceil(factor * magnitude))
        if candidate >= value:
            return candidate
    return 10 * magnitude


def bar_chart(points: Sequence[TrendPoint], *, current_key: str = "") -> BarChart:
    """Lay out one bar per month, scaled to the largest total."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    # At least one unit a tick, so small totals do not repeat a rounded label.
    top = max(nice_maximum(max((p.total or 0 for p in points), default=0)), TICKS)
    slot = plot_width / max(len(points), 1)
    bar_width = slot * 0.7

    bars = []
    for index, point in enumerate(points):
        x = LEFT + index * slot + (slot - bar_width) / 2
        name = point.first_day.strftime("%B %Y")
        if point.total is None:
            height = float(MISSING_HEIGHT)
            title = f"{name}: not fetched yet"
        else:
            # The axis starts at 0 and SVG rejects a negative height, so a
            # month with a negative total draws no bar.
            height = plot_height * max(point.total, 0) / top
            title = f"{name}: {point.total} billable units"
            if not point.has_usage:
                title = f"{name}: no usage reported"
        bars.append(
            Bar(
                label=point.first_day.strftime("%b %y"),
                title=title,
                x=round(x, 1),
                y=round(baseline - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                label_x=round(x + bar_width / 2, 1),
                missing=point.total is None,
                current=point.key == current_key,
            )
        )
    ticks = [
        Tick(
            y=round(baseline - plot_height * step / TICKS, 1),
            label=f"{round(top * step / TICKS):,}",
        )
        for step in range(TICKS + 1)
    ]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        left=LEFT,
        right=WIDTH - RIGHT,
        baseline=baseline,
    )
