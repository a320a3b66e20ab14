"""The pipeline's health in numbers: what the health page and the static report show.

Every section is one cheap query (aggregates, limits) from sql/health/, run through the same Snowflake
connection the DAGs use; the files section also lists the landing bucket, as the load does. A section
whose query fails says so and the others still show. ``HealthCache`` keeps a result for a short time so
opening the page again does not keep a warehouse busy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse import sql_files

WINDOWS = {"hour": 1, "day": 24, "week": 168}
DEFAULT_WINDOW = "day"
CACHE_SECONDS = 60.0
CONSERVATION_COLUMNS = ("delivered", "redelivered", "in_tables", "quarantined", "waiting", "lost", "duplicated")
WAITING_LISTED = 10


@dataclass
class Section:
    """One section's data, or the error that kept it from being read."""

    error: str | None = None


@dataclass
class Conservation(Section):
    totals: dict[str, int] = field(default_factory=dict)
    hourly: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Freshness(Section):
    newest_loaded_at: datetime | None = None
    newest_transformed_at: datetime | None = None
    newest_event_at: datetime | None = None
    hourly: list[dict[str, Any]] = field(default_factory=list)  # hour, orders, p50_seconds, p95_seconds


@dataclass
class Volume(Section):
    hourly: list[dict[str, Any]] = field(default_factory=list)  # hour, events, purchases

    @property
    def events(self) -> int:
        return sum(row["events"] for row in self.hourly)

    @property
    def purchases(self) -> int:
        return sum(row["purchases"] for row in self.hourly)


@dataclass
class Files(Section):
    by_status: dict[str, dict[str, int]] = field(default_factory=dict)  # status -> files, rows_loaded, ...
    failed: list[dict[str, Any]] = field(default_factory=list)  # file_name, error, loaded_at
    waiting: int = 0
    waiting_files: list[dict[str, Any]] = field(default_factory=list)  # key, last_modified
    waiting_error: str | None = None


@dataclass
class Quarantine(Section):
    total: int = 0
    reasons: int = 0
    by_reason: list[dict[str, Any]] = field(default_factory=list)  # reason, records, samples: [{text, ...}]


@dataclass
class Drift(Section):
    available: bool = False  # False: the database has no analytics.value_drift (the event contract's view)
    new_values: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # field, value, first_seen, last_seen, records


@dataclass
class Health:
    window: str
    since: datetime
    until: datetime
    conservation: Conservation
    freshness: Freshness
    volume: Volume
    files: Files
    quarantine: Quarantine
    drift: Drift

    def errors(self) -> dict[str, str]:
        """The sections that could not be read, with why."""
        sections = ("conservation", "freshness", "volume", "files", "quarantine", "drift")
        return {name: error for name in sections if (error := getattr(self, name).error)}

    def hours(self) -> list[datetime]:
        """Every hour the window touches, oldest first (charts show empty hours as zero)."""
        hour = self.since.replace(minute=0, second=0, microsecond=0)
        found = []
        while hour < self.until:
            found.append(hour)
            hour += timedelta(hours=1)
        return found


def window_bounds(window: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) in UTC without zone, as the tables store times (TIMESTAMP_NTZ, UTC)."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}: expected one of {', '.join(WINDOWS)}")
    until = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    return until - timedelta(hours=WINDOWS[window]), until


def collect(
    conn: Any, window: str, landed: Callable[[], list[Any]] | None = None, now: datetime | None = None
) -> Health:
    """Read every section for the window. ``landed`` lists the files in the landing bucket (for "waiting");
    without it the waiting count is not available."""
    since, until = window_bounds(window, now)
    bounds = {"since": since, "until": until}
    cursor = conn.cursor()

    def rows(relative: str) -> list[dict[str, Any]]:
        for stmt in sql_files.statements(relative):
            cursor.execute(stmt, bounds)
        names = [d[0].lower() for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    return Health(
        window=window,
        since=since,
        until=until,
        conservation=_section(Conservation, lambda: _conservation(rows("health/conservation.sql"))),
        freshness=_section(Freshness, lambda: _freshness(rows("health/freshness.sql"))),
        volume=_section(Volume, lambda: Volume(hourly=_ints(rows("health/volume.sql"), "events", "purchases"))),
        files=_section(Files, lambda: _files(rows("health/files.sql"), cursor, landed)),
        quarantine=_section(Quarantine, lambda: _quarantine(rows("health/quarantine.sql"))),
        drift=_section(Drift, lambda: _read_drift(rows)),
    )


def _section(kind: type, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception as exc:  # a section that cannot be read says why; the page still shows the others
        return kind(error=_describe(exc))


def _describe(exc: Exception) -> str:
    # The connector's messages name the statement's problem, never the connection's secret.
    return f"{type(exc).__name__}: {str(exc).strip()[:300]}"


def _ints(found: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
    """Sums come back as Decimal (or FLOAT from the emulator): make them plain ints."""
    return [{**row, **{c: int(row[c] or 0) for c in columns}} for row in found]


def _conservation(found: list[dict[str, Any]]) -> Conservation:
    hourly = _ints(found, *CONSERVATION_COLUMNS)
    totals = {c: sum(row[c] for row in hourly) for c in CONSERVATION_COLUMNS}
    return Conservation(totals=totals, hourly=hourly)


def _freshness(found: list[dict[str, Any]]) -> Freshness:
    if not found:
        return Freshness()
    first = found[0]
    hourly = [
        {
            "hour": row["hour"],
            "orders": int(row["orders"]),
            "p50_seconds": float(row["p50_seconds"]),
            "p95_seconds": float(row["p95_seconds"]),
        }
        for row in found
        if row["hour"] is not None
    ]
    return Freshness(
        newest_loaded_at=first["newest_loaded_at"],
        newest_transformed_at=first["newest_transformed_at"],
        newest_event_at=first["newest_event_at"],
        hourly=hourly,
    )


def _files(found: list[dict[str, Any]], cursor: Any, landed: Callable[[], list[Any]] | None) -> Files:
    files = Files()
    for row in found:
        status = row["status"]
        files.by_status[status] = {
            k: int(row[k] or 0) for k in ("files", "rows_loaded", "rows_rejected", "untransformed")
        }
        if status == "FAILED":
            files.failed.append({k: row[k] for k in ("file_name", "error", "loaded_at")})
    if landed is None:
        files.waiting_error = "the landing bucket was not listed"
        return files
    try:
        from warehouse import loader

        waiting = loader.new_files(cursor, landed())
    except Exception as exc:  # S3 unreachable: the other file figures still stand
        files.waiting_error = _describe(exc)
        return files
    files.waiting = len(waiting)
    files.waiting_files = [{"key": f.key, "last_modified": f.last_modified} for f in waiting[:WAITING_LISTED]]
    return files


def _quarantine(found: list[dict[str, Any]]) -> Quarantine:
    quarantine = Quarantine()
    by_reason: dict[str, dict[str, Any]] = {}
    for row in found:
        quarantine.total = int(row["total_records"])
        quarantine.reasons = int(row["reasons"])
        entry = by_reason.setdefault(
            row["reason"], {"reason": row["reason"], "records": int(row["records"]), "samples": []}
        )
        entry["samples"].append(
            {"text": row["sample_text"], "file_name": row["file_name"], "rejected_in": row["rejected_in"]}
        )
    quarantine.by_reason = list(by_reason.values())
    return quarantine


def _drift(found: list[dict[str, Any]]) -> Drift:
    return Drift(
        available=True,
        new_values=int(found[0]["new_values"]) if found else 0,
        rows=[{**row, "records": int(row["records"])} for row in found],
    )


def _read_drift(rows: Callable[[str], list[dict[str, Any]]]) -> Drift:
    """The drift view comes with the event contract's migration; a database without it has no drift to show."""
    try:
        found = rows("health/drift.sql")
    except Exception as exc:
        if "does not exist" in str(exc):
            return Drift(available=False)
        raise
    return _drift(found)


class HealthCache:
    """The last reading per window, kept ``ttl`` seconds: a page opened often still queries rarely."""

    def __init__(self, read: Callable[[str], Health], ttl: float = CACHE_SECONDS) -> None:
        self._read = read
        self._ttl = ttl
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, Health]] = {}

    def get(self, window: str) -> Health:
        with self._lock:  # one reading at a time: concurrent openers wait for it instead of querying too
            kept = self._kept.get(window)
            if kept and time.monotonic() - kept[0] < self._ttl:
                return kept[1]
            health = self._read(window)
            self._kept[window] = (time.monotonic(), health)
            return health


def read(window: str) -> Health:
    """One reading through the pipeline's own connections (Snowflake and S3). A warehouse that cannot be
    reached gives a reading whose every section says so."""
    from warehouse import loader, pipeline

    where = pipeline.landing()

    def landed() -> list[Any]:
        s3 = pipeline.s3_client()
        found = loader.list_landed_files(s3, where.bucket, where.prefix, with_times=True)
        return found + loader.list_landed_files(s3, where.bucket, where.error_prefix, with_times=True)

    try:
        with pipeline.snowflake() as conn:
            return collect(conn, window, landed)
    except Exception as exc:  # no connection at all: the page says so instead of failing
        return unreachable(window, f"the warehouse could not be reached: {_describe(exc)}")


def unreachable(window: str, error: str) -> Health:
    since, until = window_bounds(window)
    return Health(
        window=window,
        since=since,
        until=until,
        conservation=Conservation(error=error),
        freshness=Freshness(error=error),
        volume=Volume(error=error),
        files=Files(error=error),
        quarantine=Quarantine(error=error),
        drift=Drift(error=error),
    )
