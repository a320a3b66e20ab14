"""
### Mobile events ELT

Loads the files Firehose delivered to S3 since the last run into Snowflake and splits them into the
analytics tables.

1. **load_new_files**: lists the landing prefix, skips files `RAW.LOAD_AUDIT` already knows, and loads
   each new file in its own transaction (PUT + COPY on an internal stage, or COPY from the external S3
   stage). Lines that are not JSON objects go to `RAW.REJECTED_EVENTS` with a reason; an unreadable file
   is recorded as FAILED and does not block the others.
2. **transform** steps, one task per model in `sql/transform/`: claim the loaded files, build the
   validated, deduplicated batch, then MERGE into quarantine, `ORDERS`, `EVENTS`, `USERS`,
   `PURCHASE_COUNTS`, and mark the batch done. Every step is idempotent: clear and rerun freely.
3. **check**: data-quality checks (`sql/checks/`), conservation included; a failure names the check.

Connections: `snowflake_default`, `aws_default` (from `AIRFLOW_CONN_*` or the UI). One active run at a
time; the schedule (`ELT_SCHEDULE`, every minute by default) backs up the event-driven trigger.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

SNOWFLAKE_CONN_ID = os.environ.get("ELT_SNOWFLAKE_CONN_ID", "snowflake_default")
AWS_CONN_ID = os.environ.get("ELT_AWS_CONN_ID", "aws_default")
SCHEDULE = os.environ.get("ELT_SCHEDULE", "* * * * *")


@dag(
    dag_id="mobile_events_elt",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=15)},
    tags=["mobile-events", "elt", "snowflake"],
    doc_md=__doc__,
)
def mobile_events_elt() -> None:
    @task
    def load_new_files() -> dict:
        from warehouse import pipeline

        return pipeline.load(SNOWFLAKE_CONN_ID, AWS_CONN_ID)

    @task
    def new_batch(load_report: dict) -> str:
        from warehouse.transform import new_batch_id

        return new_batch_id()

    def transform_task(step: str):
        @task(task_id=step.split("_", 1)[1])
        def run(batch_id: str) -> int:
            from warehouse import pipeline

            return pipeline.transform_step(step, batch_id, SNOWFLAKE_CONN_ID)

        return run

    @task
    def check(changed: int) -> dict:
        from warehouse import pipeline

        return pipeline.check(SNOWFLAKE_CONN_ID)

    from warehouse.transform import STEPS

    batch_id = new_batch(load_new_files())
    previous = None
    for step in STEPS:
        current = transform_task(step)(batch_id)
        if previous is not None:
            previous >> current
        previous = current
    check(previous)


mobile_events_elt()
