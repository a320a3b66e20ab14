"""
### Snowflake setup

Brings the pipeline's database up to date as the pipeline's role: each migration in `sql/migrations/` not yet
recorded, in order, once; a second run applies nothing. Manual only: trigger it after deploying a new
migration. Account objects need an administrator first: docs/production.md.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

import config

SNOWFLAKE_CONN_ID = config.connections().snowflake


@dag(
    dag_id="snowflake_setup",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=15)},
    tags=["mobile-events", "snowflake", "setup"],
    doc_md=__doc__,
)
def snowflake_setup() -> None:
    @task
    def run_setup_files(ti=None) -> list[str]:
        from warehouse import exclusion, pipeline, setup
        from warehouse.settings import load_settings

        caller = exclusion.Caller.of_task_instance(ti)
        with pipeline.snowflake_without_database(SNOWFLAKE_CONN_ID, caller.query_tag) as conn:
            return setup.run_setup(conn, load_settings(), caller=caller)

    run_setup_files()


snowflake_setup()
