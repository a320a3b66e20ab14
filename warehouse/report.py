"""The health page as HTML: served by the Airflow plugin, or written as a static report.

One template (warehouse/templates/health.html) with autoescaping on: every value from the warehouse,
quarantined record samples above all, is shown as text. Charts are inline SVG (warehouse.svg_charts), so
the page needs no script, no stylesheet from elsewhere and no network. The static report holds quarantined
records: its folder is owner-only (0700) and its files too (0600), whatever the umask.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mobile_events_elt.warehouse import dbt_runner, health, svg_charts
from mobile_events_elt.warehouse.svg_charts import Series

TEMPLATES = Path(str(resources.files("mobile_events_elt.warehouse") / "templates"))
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


def render(
    reading: health.Health, links: Mapping[str, str], cache_seconds: float | None = None, docs_link: str | None = None
) -> str:
    """The page for one reading; ``links`` maps each window to its URL (live page or static file), ``docs_link``
    is dbt's docs site's (the static report's: the file ``make docs`` writes)."""
    template = _environment().get_template("health.html")
    return template.render(
        h=reading,
        window=reading.window,
        windows=health.WINDOWS,
        links=links,
        docs_link=docs_link if docs_link is not None else (dbt_runner.docs_dir() / dbt_runner.DOCS_PAGE).as_uri(),
        charts=charts(reading),
        colors=COLORS,
        cache_seconds=cache_seconds,
        ages={
            "loaded": _age(reading.freshness.newest_loaded_at, reading.until),
            "transformed": _age(reading.freshness.newest_transformed_at, reading.until),
            "event": _age(reading.freshness.newest_event_at, reading.until),
        },
    )


def render_reading(window: str, links: Mapping[str, str], refresh_seconds: int = 5) -> str:
    """The page shown while a window's first reading is still being taken; it reloads itself."""
    template = _environment().get_template("health.html")
    return template.render(h=None, window=window, windows=health.WINDOWS, links=links, refresh_seconds=refresh_seconds)


def write(out: Path, read: Callable[[str], health.Health] = health.read) -> tuple[Path, list[str]]:
    """Write the static report (one page per window, index.html the last day) into ``out``, owner-only.

    Returns index.html and the sections that could not be read (each page says so too)."""
    private_folder(out)
    problems = []
    for window, page in STATIC_PAGES.items():
        reading = read(window)
        write_private(out / page, render(reading, STATIC_PAGES))
        by_error: dict[str, list[str]] = {}
        for name, error in reading.errors().items():
            by_error.setdefault(error, []).append(name)
        problems += [f"{window}: {', '.join(names)}: {error}" for error, names in by_error.items()]
    return out / STATIC_PAGES[health.DEFAULT_WINDOW], problems


class ReportFolderError(ValueError):
    """The report's folder cannot be made owner-only (a shared folder, or someone else's)."""


def private_folder(folder: Path) -> None:
    """Create ``folder`` (0700) or close an existing one to group and others; a shared folder (sticky bit,
    as /tmp) is refused rather than closed."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = folder.stat().st_mode
    if mode & stat.S_ISVTX:
        raise ReportFolderError(f"{folder} is a shared folder (sticky bit): give the report a folder of its own")
    if stat.S_IMODE(mode) != 0o700:
        try:
            folder.chmod(0o700)
        except PermissionError:
            raise ReportFolderError(f"{folder} is not yours to make owner-only: choose another folder") from None


def write_private(path: Path, text: str) -> None:
    """Write ``path`` as a new 0600 file put in place at once: never readable by others, even for a moment,
    and an older file (or a link) at that path is replaced, not written through."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # the umask may have taken the owner's bits too
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
