"""
### Snowflake setup

Brings the pipeline's database up to date, as the pipeline's role: looks up the database from
`config/snowflake.json` and its `RAW` and `ANALYTICS` schemas (creating only what is missing, where the
role may), then applies each versioned migration in `sql/migrations/` not yet recorded in
`RAW.SCHEMA_MIGRATIONS`, in version order, once. Idempotent: a second run applies nothing. A migration
edited after it was applied fails the run with the file named (add a new migration instead).

It holds the pipeline's lease while it migrates (docs/exclusion.md): it waits for a running ELT task to
finish, and no load or transform starts until it is done; until the database has the schema version the
deployed code expects, every ELT run fails naming both versions.

Account objects (warehouse, database, schemas, role, grants, service user, storage integration, external
stage) need an administrator and real Snowflake: `mobile-events-warehouse setup --account-objects ...`, once
(see the README).

Manual only: trigger it from the UI after deploying a new migration.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from mobile_events_elt import config

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
        from mobile_events_elt.config.warehouse_settings import load_settings
        from mobile_events_elt.warehouse import exclusion, pipeline, setup

        caller = exclusion.Caller.of_task_instance(ti)
        with pipeline.snowflake_without_database(SNOWFLAKE_CONN_ID, caller.query_tag) as conn:
            return setup.run_setup(conn, load_settings(), caller=caller)

    run_setup_files()


snowflake_setup()
