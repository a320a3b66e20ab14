"""
### Mobile events ELT

Loads the files Firehose delivered to S3 since the last run into Snowflake and splits them into the
analytics tables.

1. **load_new_files**: lists the landing prefix, skips files `RAW.LOAD_AUDIT` already knows, and loads
   each new file in its own transaction (PUT + COPY on an internal stage, or COPY from the external S3
   stage). Lines that are not JSON objects go to `RAW.REJECTED_EVENTS` with a reason; an unreadable file
   is recorded as FAILED and does not block the others. Records Firehose wrote to its error output
   (`errors/`) are quarantined the same way, so every record sent ends in a table or in quarantine.
2. **transform** steps, one task per model in `sql/transform/`: claim the loaded files, build the
   validated, deduplicated batch, then MERGE into quarantine, `ORDERS`, `EVENTS`, `USERS`,
   `PURCHASE_COUNTS`, and mark the batch done. Every step is idempotent: clear and rerun freely.
3. **check**: data-quality checks (`sql/checks/`), conservation included; a failure names the check.

Triggers: every `ELT_SCHEDULE` (each minute by default) and, when `ELT_SQS_QUEUE_URL` names the queue
that receives the bucket's ObjectCreated notifications, as soon as a file lands (an asset watcher on
that queue). SQS messages are deleted on receipt, so the schedule also sweeps for files no message
announced: every run loads *all* files the audit does not know, whatever woke it.

Connections: `snowflake_default`, `aws_default` (from `AIRFLOW_CONN_*` or the UI). One active run at a
time. Failures are published to the SNS topic `ELT_ALERTS_TOPIC_ARN` when set. The check task updates
the assets `analytics.users`, `analytics.events`, `analytics.orders` and `analytics.purchase_counts`,
so downstream DAGs can run after fresh data.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, dag, task

SNOWFLAKE_CONN_ID = os.environ.get("ELT_SNOWFLAKE_CONN_ID", "snowflake_default")
AWS_CONN_ID = os.environ.get("ELT_AWS_CONN_ID", "aws_default")
SCHEDULE = os.environ.get("ELT_SCHEDULE", "* * * * *")
QUEUE_URL = os.environ.get("ELT_SQS_QUEUE_URL")
ALERTS_TOPIC_ARN = os.environ.get("ELT_ALERTS_TOPIC_ARN")

# snowflake://<account>/<database>/<schema>/<table>; "pipeline" stands for whichever account is configured.
ANALYTICS_ASSETS = [
    Asset(uri=f"snowflake://pipeline/mobile_events/analytics/{table}", name=f"analytics.{table}")
    for table in ("users", "events", "orders", "purchase_counts")
]


def _schedule() -> object:
    """The cron schedule, or it OR-ed with an S3-notification watcher when the queue is configured."""
    timetable = CronTriggerTimetable(SCHEDULE, timezone="UTC")
    if not QUEUE_URL:
        return timetable
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    trigger = MessageQueueTrigger(
        scheme="sqs", sqs_queue=QUEUE_URL, aws_conn_id=AWS_CONN_ID, waiter_delay=1, wait_time_seconds=10
    )
    landed = Asset("s3://mobile-events/landing", watchers=[AssetWatcher(name="landing_notifications", trigger=trigger)])
    return AssetOrTimeSchedule(timetable=timetable, assets=landed)


def _failure_alerts() -> list:
    if not ALERTS_TOPIC_ARN:
        return []
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    return [
        SnsNotifier(
            aws_conn_id=AWS_CONN_ID,
            target_arn=ALERTS_TOPIC_ARN,
            subject="mobile_events_elt failed",
            message="Task {{ ti.task_id }} of run {{ run_id }} failed: {{ exception }}",
        )
    ]


@dag(
    dag_id="mobile_events_elt",
    schedule=_schedule(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=15), "on_failure_callback": _failure_alerts()},
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

    @task(outlets=ANALYTICS_ASSETS)
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
