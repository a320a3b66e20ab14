"""Preload dbt in the process that forks Airflow's task processes (the scheduler's LocalExecutor workers, a
Celery worker's pool): dbt, the Snowflake adapter and the project's parsed manifest, imported and parsed once
there, are inherited by every forked task, whose first build then starts without either (docs/transforms.md).

Optional: ``deploy/airflow_local_settings.py`` calls ``preload_for_tasks()``; without it a task imports dbt and
parses the project itself. A manifest parsed from other files or for another target is never used
(dbt_runner parses again).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)
# `airflow <command>`s whose process (or its workers) forks task processes.
FORKING_COMMANDS = frozenset({"scheduler", "standalone", "worker"})


def forks_tasks(argv: Sequence[str]) -> bool:
    """Whether the command in ``argv`` runs an executor that forks tasks (``airflow scheduler``, ``airflow
    celery worker``, ``airflow standalone``), so a preload there is paid once and not by every other process."""
    return any(arg in FORKING_COMMANDS for arg in argv[1:3])


def preload(conn_id: str | None = None, database: str | None = None) -> bool:
    """Import dbt and parse the project for the pipeline's target (its settings' connection and database unless
    given); False, with a warning, when it cannot: the tasks then parse as they would without the preload."""
    started = time.monotonic()
    try:
        # The parse imports dbt and loads the Snowflake adapter: both then in the memory the tasks inherit.
        from mobile_events_elt.config.warehouse_settings import load_settings
        from mobile_events_elt.warehouse import dbt_runner

        if conn_id is None or database is None:
            settings = load_settings()
            conn_id, database = conn_id or settings.connection_id, database or settings.database
        dbt_runner.prepare(dbt_runner.Target.of_airflow(conn_id, database))
    except Exception:  # optional: any failure leaves the tasks to parse as usual
        log.warning("dbt preload skipped: the tasks will parse the dbt project themselves", exc_info=True)
        return False
    log.info("dbt preloaded in %.1f s", time.monotonic() - started)
    return True


def preload_for_tasks(argv: Sequence[str] = sys.argv) -> bool:
    """``preload()`` in a process that forks tasks; nothing (False) in any other Airflow process."""
    return forks_tasks(argv) and preload()
