"""Reports after each run: each ``sql/reports/*.sql`` returns rows for people to look at, such as new values of
open fields. A few of its rows are logged, each value cut and escaped, and a report never fails the run (the
data tests of the dbt build decide it): its error is logged (and alerted) once, when it first appears.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from snowflake.connector.errors import Error as SnowflakeError

from mobile_events_elt.warehouse import sql_files
from mobile_events_elt.warehouse.log_text import shown
from mobile_events_elt.warehouse.transactions import transaction

REPORTS = [PurePosixPath(p).stem for p in sql_files.files("reports")]
# A run logs at most this many rows of each report (the rest are counted), each value at most CELL_LIMIT
# characters once escaped (a report's SQL cuts long values to 200 and says by how much), an error ERROR_LIMIT.
LOGGED_ROWS = 20
CELL_LIMIT = 300
ERROR_LIMIT = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reports:
    """What the reports gave: each report's rows (none for one that failed), and each failing one's error."""

    rows: dict[str, list[tuple[Any, ...]]]
    errors: dict[str, str]  # report -> its error as logged: class, number and message, cut and escaped


def run_reports(conn: Any, alert: Callable[[str, str], None] | None = None) -> Reports:
    """Run every report and log at most LOGGED_ROWS of its rows. A report never fails the run: a failing one's
    error is logged, and ``alert(report, error)`` called, only when it is not the error the report last failed
    with (raw.report_errors remembers it); a report failing the same way again gets one short line."""
    cursor = conn.cursor()
    remembered = _remembered_errors(cursor)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    errors: dict[str, str] = {}
    for name in REPORTS:
        try:
            rows[name] = sql_files.run_file(conn.cursor(), f"reports/{name}.sql")
        except Exception as exc:  # whatever a report raises is reported, never raised: the data tests decide the run
            rows[name], errors[name] = [], error_text(exc)
            _report_failed(cursor, name, errors[name], remembered.get(name), alert)
            continue
        if name in remembered:
            log.info("report %s works again", name)
            _remember(cursor, name, None)
        for row in rows[name][:LOGGED_ROWS]:
            log.warning("report %s: %s", name, ", ".join(shown(value, CELL_LIMIT) for value in row))
        if len(rows[name]) > LOGGED_ROWS:
            log.warning("report %s: %d more rows not logged", name, len(rows[name]) - LOGGED_ROWS)
    return Reports(rows, errors)


def error_text(exc: BaseException) -> str:
    """An error as logged and compared from run to run: class, error number and message, cut and escaped
    (the connector's message as raised, without the query id it adds to ``str(exc)`` when its logger is at INFO,
    which would make every run's error a new one)."""
    errno = getattr(exc, "errno", None)
    message = getattr(exc, "raw_msg", None) or str(exc)
    return shown(f"{type(exc).__name__}{f' {errno}' if errno else ''}: {message}", ERROR_LIMIT)


def _report_failed(
    cursor: Any, name: str, error: str, last: str | None, alert: Callable[[str, str], None] | None
) -> None:
    if error == last:
        log.info("report %s still fails with the error logged when it began (raw.report_errors)", name)
        return
    log.error("report %s failed (the data tests still decide the run): %s", name, error)
    if alert:
        try:
            alert(name, error)
        except Exception as exc:  # an alert that cannot be sent is tried again by the next run
            log.warning("the alert for report %s was not sent (%s): the next run tries again", name, error_text(exc))
            return
    _remember(cursor, name, error)


def _remembered_errors(cursor: Any) -> dict[str, str]:
    """Each failing report's last error, as raw.report_errors holds it; none when it cannot be read."""
    try:
        return dict(cursor.execute("select report, error from raw.report_errors").fetchall())
    except SnowflakeError as exc:
        log.warning("the reports' last errors cannot be read (%s): any report error is logged", error_text(exc))
        return {}


def _remember(cursor: Any, name: str, error: str | None) -> None:
    """Record ``error`` as the report's last one (None: the report works); a failure here is only logged."""
    try:
        with transaction(cursor):
            cursor.execute("delete from raw.report_errors where report = %(report)s", {"report": name})
            if error is not None:
                cursor.execute(
                    "insert into raw.report_errors (report, error, failing_since) values "
                    "(%(report)s, %(error)s, sysdate())",
                    {"report": name, "error": error},
                )
    except SnowflakeError as exc:
        log.warning("report %s: its last error cannot be recorded (%s)", name, error_text(exc))
