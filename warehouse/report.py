"""The health page as HTML: served by the Airflow plugin, or written as a static report.

One template (warehouse/templates/health.html) with autoescaping on: every value from the warehouse,
quarantined record samples above all, is shown as text. Charts are inline SVG (warehouse.svg_charts), so
the page needs no script, no stylesheet from elsewhere and no network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from warehouse import health, svg_charts
from warehouse.svg_charts import Series

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLORS = {
    "in_tables": "#2f855a",
    "quarantined": "#d69e2e",
    "waiting": "#718096",
    "lost": "#c53030",
    "p50": "#3182ce",
    "p95": "#805ad5",
    "events": "#3182ce",
    "purchases": "#2f855a",
}
WIDE = 1240  # the conservation chart spans the page
OUTCOMES = ("in_tables", "quarantined", "waiting", "lost")  # what became of each record delivered
# The static report's file per window; the live page uses ?window=.
STATIC_PAGES = {"day": "index.html", "hour": "hour.html", "week": "week.html"}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    env.filters["count"] = lambda n: f"{int(n):,}"
    env.filters["utc"] = lambda t: "never" if t is None else f"{t:%Y-%m-%d %H:%M:%S} UTC"
    env.filters["seconds"] = _duration
    return env


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    seconds = float(seconds)
    if abs(seconds) < 120:
        return f"{seconds:.0f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    if abs(seconds) < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment).total_seconds()


def charts(reading: health.Health) -> dict[str, Any]:
    """The page's charts, one per section with hourly figures, over every hour of the window."""
    hours = reading.hours()

    def per_hour(rows: list[dict[str, Any]], column: str, missing: float | None = 0.0) -> list[float | None]:
        by_hour = {row["hour"]: row[column] for row in rows if row.get("hour") is not None}
        return [float(by_hour[hour]) if by_hour.get(hour) is not None else missing for hour in hours]

    drawn: dict[str, Any] = {}
    conservation = reading.conservation.hourly
    drawn["conservation"] = svg_charts.bars(
        hours,
        [
            Series(name.replace("_", " "), per_hour(conservation, name), COLORS[name])
            for name in COLORS
            if name in health.CONSERVATION_COLUMNS
        ],
        "records delivered per hour, by outcome",
        width=WIDE,
    )
    latency = reading.freshness.hourly
    drawn["freshness"] = svg_charts.lines(
        hours,
        [
            Series("p50", per_hour(latency, "p50_seconds", missing=None), COLORS["p50"]),
            Series("p95", per_hour(latency, "p95_seconds", missing=None), COLORS["p95"]),
        ],
        "event to load latency per hour",
        fmt=_duration,
    )
    volume = reading.volume.hourly
    drawn["volume"] = svg_charts.lines(
        hours,
        [
            Series("events", per_hour(volume, "events"), COLORS["events"]),
            Series("completed purchases", per_hour(volume, "purchases"), COLORS["purchases"]),
        ],
        "events and completed purchases per hour",
    )
    return drawn


def render(reading: health.Health, links: Mapping[str, str], cache_seconds: float | None = None) -> str:
    """The page for one reading; ``links`` maps each window to its URL (live page or static file)."""
    template = _environment().get_template("health.html")
    return template.render(
        h=reading,
        windows=health.WINDOWS,
        links=links,
        charts=charts(reading),
        colors=COLORS,
        cache_seconds=cache_seconds,
        ages={
            "loaded": _age(reading.freshness.newest_loaded_at, reading.until),
            "transformed": _age(reading.freshness.newest_transformed_at, reading.until),
            "event": _age(reading.freshness.newest_event_at, reading.until),
        },
    )


def write(out: Path, read: Callable[[str], health.Health] = health.read) -> tuple[Path, list[str]]:
    """Write the static report (one page per window, index.html the last day) into ``out``.

    Returns index.html and the sections that could not be read (each page says so too)."""
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for window, page in STATIC_PAGES.items():
        reading = read(window)
        (out / page).write_text(render(reading, STATIC_PAGES), encoding="utf-8")
        by_error: dict[str, list[str]] = {}
        for name, error in reading.errors().items():
            by_error.setdefault(error, []).append(name)
        problems += [f"{window}: {', '.join(names)}: {error}" for error, names in by_error.items()]
    return out / STATIC_PAGES[health.DEFAULT_WINDOW], problems
