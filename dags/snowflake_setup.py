"""
### Snowflake setup

Creates or updates every Snowflake object the pipeline uses: the database from `config/snowflake.json`,
the `RAW` and `ANALYTICS` schemas, the raw and analytics tables, the line file format and the internal
stage (`sql/setup/*.sql`). Idempotent: trigger it as often as you like; a second run changes nothing.

Account objects (warehouse, role, grants, storage integration, external stage) need an administrator
and real Snowflake: run `python -m warehouse setup --account-objects ...` once (see the README).

Manual only: trigger it from the UI after deploying or changing `sql/setup/`.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

SNOWFLAKE_CONN_ID = os.environ.get("ELT_SNOWFLAKE_CONN_ID", "snowflake_default")


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
    def run_setup_files() -> list[str]:
        from warehouse import pipeline, setup
        from warehouse.settings import load_settings

        with pipeline.snowflake_without_database(SNOWFLAKE_CONN_ID) as conn:
            return setup.run_setup(conn, load_settings())

    run_setup_files()


snowflake_setup()
