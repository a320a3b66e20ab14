"""
### Snowflake setup

Brings the pipeline's database up to date, as the pipeline's role: looks up the database from
`config/snowflake.json` and its `RAW` and `ANALYTICS` schemas (creating only what is missing, where the
role may), then applies each versioned migration in `sql/migrations/` not yet recorded in
`RAW.SCHEMA_MIGRATIONS`, in version order, once. Idempotent: a second run applies nothing. A migration
edited after it was applied fails the run with the file named (add a new migration instead).

Account objects (warehouse, database, schemas, role, grants, service user, storage integration, external
stage) need an administrator and real Snowflake: `python -m warehouse setup --account-objects ...`, once
(see the README).

Manual only: trigger it from the UI after deploying a new migration.
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
    def run_setup_files() -> list[str]:
        from config.clients import snowflake_connection
        from warehouse import setup
        from warehouse.settings import load_settings

        with snowflake_connection(SNOWFLAKE_CONN_ID) as conn:
            return setup.run_setup(conn, load_settings())

    run_setup_files()


snowflake_setup()
