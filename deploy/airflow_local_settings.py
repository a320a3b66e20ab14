"""Airflow's local settings for the mobile-events ELT: preload dbt in the processes that fork the tasks.

Airflow imports this module (from $AIRFLOW_HOME/config or anywhere on PYTHONPATH) in every process; only the
scheduler and Celery workers preload. Optional: without it the ELT task parses the dbt project itself.
"""

import logging

__all__: list[str] = []  # Airflow copies a local settings module's public names into its settings: none here

try:
    from mobile_events_elt.warehouse.dbt_preload import preload_for_tasks
except ImportError:  # the pipeline's code is not on this process's path: nothing to preload
    logging.getLogger(__name__).warning(
        "dbt preload skipped: mobile_events_elt.warehouse.dbt_preload is not importable"
    )
else:
    preload_for_tasks()
