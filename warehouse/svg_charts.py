"""Small hourly charts as inline SVG, drawn on the server: no script, no library, no network.

Every text that goes into the markup (series names, labels, tooltips) is escaped here, so a chart is
safe to insert into a page as it is (the page's template marks it safe for that reason alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 720, 190
LEFT, RIGHT, TOP, BOTTOM = 66, 10, 10, 26


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no figure for that hour (a gap in a line, nothing in a bar)
    color: str


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^n at or above value, so gridlines fall on round numbers."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def number(value: float) -> str:
    """A short axis or tooltip figure: 950, 12.5, 48k, 3.2M."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.3g}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _hour_label(hour: datetime, span: int) -> str:
    return hour.strftime("%m-%d") if span > 48 else hour.strftime("%H:00")


def _frame(
    hours: Sequence[datetime], top: float, unit: str, title: str, width: int, fmt: Callable[[float], str]
) -> list[str]:
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        label = escape(fmt(top * i / 4) + (unit if i == 4 else ""))
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{label}</text>')
    span = len(hours)
    every = max(1, math.ceil(span / 12)) if span <= 48 else 24
    slot = plot_w / max(span, 1)
    for i, hour in enumerate(hours):
        if (span > 48 and hour.hour != 0) or (span <= 48 and i % every):
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis">'
            f"{escape(_hour_label(hour, span))}</text>"
        )
    return parts


def bars(
    hours: Sequence[datetime],
    series: Sequence[Series],
    title: str,
    unit: str = "",
    width: int = WIDTH,
    fmt: Callable[[float], str] = number,
) -> str:
    """Stacked bars, one per hour; each segment's tooltip names its series, hour and value."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(hours))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(hours), 1)
    bar = max(slot * 0.8, 1.0)
    parts = _frame(hours, top, unit, title, width, fmt)
    for i, hour in enumerate(hours):
        base = 0.0
        for s in series:
            value = s.values[i]
            if value is None or value <= 0:
                continue
            height = plot_h * value / top
            y = TOP + plot_h - plot_h * base / top - height
            tip = escape(f"{s.name}, {hour:%Y-%m-%d %H:00} UTC: {fmt(value)}{unit}")
            parts.append(
                f'<rect x="{LEFT + slot * i + (slot - bar) / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{escape(s.color)}" class="bar"><title>{tip}</title></rect>'
            )
            base += value
    parts.append("</svg>")
    return "".join(parts)


def lines(
    hours: Sequence[datetime],
    series: Sequence[Series],
    title: str,
    unit: str = "",
    width: int = WIDTH,
    fmt: Callable[[float], str] = number,
) -> str:
    """One line per series over the hours (broken where an hour has no figure), with a dot per hour carrying
    its value as tooltip."""
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(hours), 1)
    parts = _frame(hours, top, unit, title, width, fmt)
    for s in series:
        points = [
            None if value is None else (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * value / top)
            for i, value in enumerate(s.values)
        ]
        for run in _runs(points):
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{escape(s.color)}" stroke-width="2"/>')
        for point, hour, value in zip(points, hours, s.values, strict=True):
            if point is None or value is None:
                continue
            tip = escape(f"{s.name}, {hour:%Y-%m-%d %H:00} UTC: {fmt(value)}{unit}")
            parts.append(
                f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="3" fill="{escape(s.color)}" class="point">'
                f"<title>{tip}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _runs(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """The unbroken stretches of a line: consecutive hours that have a figure."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]
