"""Data-quality checks after each run: each ``sql/checks/*.sql`` returns one number, its failures.

Each check looks at what one run wrote (its ``transform.Scope``: the files it transformed, plus the dedup
horizon where a uniqueness check needs it, docs/bounded-work.md), or at whole tables when run on its own.
A failed check fails the run and says which check failed and by how much; later runs check that scope
again until the checks pass. A report (``sql/checks/reports/*.sql``) returns rows for people to look at,
such as new values of open fields; its rows are logged and never fail the run.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any

from warehouse import sql_files
from warehouse.settings import load_settings
from warehouse.transactions import transaction
from warehouse.transform import Scope

CHECKS = [PurePosixPath(p).stem for p in sql_files.files("checks")]
REPORTS = [PurePosixPath(p).stem for p in sql_files.files("checks/reports")]
log = logging.getLogger(__name__)


class ChecksFailed(AssertionError):
    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        detail = "; ".join(f"{name}: {count} failing rows" for name, count in failures.items())
        super().__init__(f"{len(failures)} data-quality check(s) failed: {detail}")


def run_checks(conn: Any, freshness_hours: int | None = None, scope: Scope | None = None) -> dict[str, int]:
    """Run every check on ``scope`` (what a run transformed: ``transform.run_batch(...).scope``), with the scope
    of earlier runs whose checks failed until they pass (``raw.check_backlog``); on whole tables if not given.
    Return {check: failures}. Raises ChecksFailed if any is not zero."""
    cursor = conn.cursor()
    if scope is not None:
        for row in sql_files.run_file(cursor, "checks/backlog/read.sql"):
            scope = scope.union(Scope(*row))
    params = check_params(freshness_hours, scope)
    results = {name: int(sql_files.run_file(cursor, f"checks/{name}.sql", params)[0][0]) for name in CHECKS}
    run_reports(conn)
    failing = {name: count for name, count in results.items() if count}
    if scope is not None:
        with transaction(cursor):
            sql_files.run_file(cursor, f"checks/backlog/{'keep' if failing else 'clear'}.sql", scope.params())
    if failing:
        raise ChecksFailed(failing)
    return results


def check_params(freshness_hours: int | None = None, scope: Scope | None = None) -> dict[str, Any]:
    """The checks' parameters: the freshness limit (configured, unless given) and the scope's bounds."""
    hours = freshness_hours if freshness_hours is not None else load_settings().freshness_hours
    return {"freshness_hours": hours, **(scope or Scope.everything()).params()}


def run_reports(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Run every report; log and return its rows. A report never fails the run."""
    cursor = conn.cursor()
    found = {name: sql_files.run_file(cursor, f"checks/reports/{name}.sql") for name in REPORTS}
    for name, rows in found.items():
        for row in rows:
            log.warning("report %s: %s", name, ", ".join(map(str, row)))
    return found
