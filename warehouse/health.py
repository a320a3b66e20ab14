"""The pipeline's health in numbers: what the health page and the static report show.

Every section is one or two cheap queries (aggregates, limits) from sql/health/, through the read
connection (``config.connections().snowflake_read``) with a short statement timeout; long text (reasons,
samples, values, names, errors) is cut in SQL. "Waiting" compares the files the ELT run's own bounded
listing finds with the audit. A section whose query fails says so and the others still show.
``HealthCache`` serves the last reading at once while one refresh at a time runs on a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from mobile_events_elt.warehouse import sql_files

WINDOWS = {"hour": 1, "day": 24, "week": 168}
DEFAULT_WINDOW = "day"
CACHE_SECONDS = 60.0
# How long the first request for a window waits for the first reading before it is told "reading".
FIRST_READING_WAIT = 20.0
# The page's statements give up after this (Snowflake's STATEMENT_TIMEOUT_IN_SECONDS for its session), and
# the connector after NETWORK_TIMEOUT seconds without an answer: a reading never holds its thread for long.
STATEMENT_TIMEOUT_SECONDS = 30
NETWORK_TIMEOUT_SECONDS = 60
# sql/health/ cuts every long text to this many characters and appends "[... cut, N characters in all]".
TEXT_SHOWN = 300
CONSERVATION_COLUMNS = ("delivered", "redelivered", "in_tables", "quarantined", "waiting", "lost", "duplicated")
WAITING_LISTED = 10

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    by_status: dict[str, dict[str, int]] = field(default_factory=dict)  # in the window: status -> files, ...
    # Files that need a person (no loaded version since), any time: the newest 20 of each, and how many.
    failed: list[dict[str, Any]] = field(default_factory=list)  # FAILED: file_name, error, loaded_at
    failed_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # REJECTED_KEY: file_name, error, loaded_at
    rejected_count: int = 0
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
    """Read every section for the window. ``landed`` gives the files the ELT run's bounded listing finds
    (for "waiting": those the audit does not know yet); without it the waiting count is not available."""
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
        files=_section(
            Files, lambda: _files(rows("health/files.sql"), rows("health/files_unresolved.sql"), cursor, landed)
        ),
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


def _files(
    found: list[dict[str, Any]],
    unresolved: list[dict[str, Any]],
    cursor: Any,
    landed: Callable[[], list[Any]] | None,
) -> Files:
    files = Files()
    for row in found:
        files.by_status[row["status"]] = {
            k: int(row[k] or 0) for k in ("files", "rows_loaded", "rows_rejected", "untransformed")
        }
    for row in unresolved:
        shown = {k: row[k] for k in ("file_name", "error", "loaded_at")}
        if row["status"] == "FAILED":
            files.failed.append(shown)
            files.failed_count = int(row["files"])
        else:
            files.rejected.append(shown)
            files.rejected_count = int(row["files"])
    if landed is None:
        files.waiting_error = "the landing bucket was not listed"
        return files
    try:
        from mobile_events_elt.warehouse import loader

        waiting = loader.new_files(cursor, landed())
    except Exception as exc:  # S3 unreachable: the other file figures still stand
        files.waiting_error = _describe(exc)
        return files
    files.waiting = len(waiting)
    files.waiting_files = [{"key": f.key, "last_modified": f.last_modified} for f in waiting[:WAITING_LISTED]]
    return files


def _quarantine(found: list[dict[str, Any]]) -> Quarantine:
    quarantine = Quarantine()
    by_reason: dict[int, dict[str, Any]] = {}  # by rank: two long reasons may be cut to the same text
    for row in found:
        quarantine.total = int(row["total_records"])
        quarantine.reasons = int(row["reasons"])
        entry = by_reason.setdefault(
            int(row["reason_rank"]), {"reason": row["reason"], "records": int(row["records"]), "samples": []}
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


class HealthCache(Generic[T]):
    """The last reading per window, served at once; a reading older than ``ttl`` seconds is still served
    while a new one is taken. Readings run one at a time on a thread of the cache's own (never the
    caller's, never a server's shared pool), and a window's reading is never started twice at once.

    ``get`` is a coroutine: the first request for a window waits for its first reading up to
    ``first_wait`` seconds (without holding a thread), then gets None ("reading") and the reading goes on.
    """

    def __init__(
        self, read: Callable[[str], T], ttl: float = CACHE_SECONDS, first_wait: float = FIRST_READING_WAIT
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._first_wait = first_wait
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-health-reader")
        self._lock = threading.Lock()  # guards the two dicts below only; never held while reading
        self._kept: dict[str, tuple[float, T]] = {}
        self._running: dict[str, Future[T | None]] = {}

    async def get(self, window: str) -> T | None:
        """The window's last reading (a new one started if it is older than ``ttl``), or None when there has
        been none yet and the first did not finish within ``first_wait`` seconds."""
        with self._lock:
            kept = self._kept.get(window)
            fresh = kept is not None and time.monotonic() - kept[0] < self._ttl
        if fresh and kept is not None:
            return kept[1]
        running = self.refresh(window)
        if kept is not None:
            return kept[1]
        with contextlib.suppress(TimeoutError):
            # shield: a request that stops waiting must not cancel the reading others are waiting for
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(running)), self._first_wait)
        return None

    def refresh(self, window: str) -> Future[T | None]:
        """Start a reading of the window unless one is queued or running; the future of that reading."""
        with self._lock:
            running = self._running.get(window)
            if running is None:
                running = self._running[window] = self._reader.submit(self._take, window)
            return running

    def _take(self, window: str) -> T | None:
        try:
            reading = self._read(window)
        except Exception:  # the last reading stays; the next request tries again
            log.exception("the %s health reading failed", window)
            return None
        else:
            with self._lock:
                self._kept[window] = (time.monotonic(), reading)
            return reading
        finally:
            with self._lock:
                del self._running[window]


@contextlib.contextmanager
def reading_connection(conn_id: str | None = None) -> Iterator[Any]:
    """A connection for readings: the read connection (``WarehouseSettings.read_connection``) on the
    pipeline's database, its statements cut off after ``STATEMENT_TIMEOUT_SECONDS`` and the connector's
    after ``NETWORK_TIMEOUT_SECONDS``, whatever the connection itself sets."""
    from mobile_events_elt.config.snowflake_hook import PipelineSnowflakeHook
    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import pipeline

    class ReadingHook(PipelineSnowflakeHook):
        def _get_conn_params(self) -> dict[str, Any]:
            params = dict(super()._get_conn_params())
            session = {**(params.get("session_parameters") or {})}
            session["STATEMENT_TIMEOUT_IN_SECONDS"] = STATEMENT_TIMEOUT_SECONDS
            params["session_parameters"] = session
            own = int(params.get("network_timeout") or NETWORK_TIMEOUT_SECONDS)
            params["network_timeout"] = min(own, NETWORK_TIMEOUT_SECONDS)
            return params

    settings = load_settings()
    conn = ReadingHook(snowflake_conn_id=conn_id or settings.read_connection).get_conn()
    try:
        pipeline.use_database(conn, settings.database)
        yield conn
    finally:
        conn.close()


def read(window: str) -> Health:
    """One reading through the read connection, "waiting" from the ELT run's own bounded listing. A
    warehouse that cannot be reached gives a reading whose every section says so."""
    from mobile_events_elt.warehouse import pipeline

    try:
        with reading_connection() as conn:
            return collect(conn, window, lambda: pipeline.recent_files())
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
