"""
### Mobile events ELT

Loads the files Firehose delivered to S3 since the last run into Snowflake, splits them into the
analytics tables and checks them, in one task, **load_transform_check**:

1. **Anything new?** It asks S3, not Snowflake: it lists the landing and error folders of the hours
   Firehose can still write to (since the last complete run, less `late_delivery_hours`) and compares the
   listing (keys and ETags) with the marker object `state/mobile_events_elt/last-complete-listing.json`,
   written only by a run that finished every step. Unchanged: the task *skips* itself (the run shows as
   skipped in the grid), no Snowflake session is opened and no asset event is published, so an idle
   pipeline never resumes the warehouse. If the newest file is older than `freshness_hours`, the task
   fails instead, as the freshness check would.
2. **Load**, on one connection holding the pipeline's lease (`RAW.PIPELINE_LEASE`: one writer at a time,
   a retry fences off its earlier try; `docs/exclusion.md`), each listed file `RAW.LOAD_AUDIT` does not
   know yet (PUT + COPY on an internal
   stage, or COPY from the external S3 stage). Lines that are not JSON objects go to
   `RAW.REJECTED_EVENTS` with a reason; an unreadable file is recorded as FAILED (a key that is not a
   safe path, as REJECTED_KEY) and does not block the others, but the run fails once everything else is
   committed and names it, and so does every later run, idle ones included (from the marker, without
   the warehouse), until the object is replaced, removed or replayed. Records Firehose wrote to its error
   output (`errors/`) are quarantined the same way, so every record sent ends in a table or in
   quarantine.
3. **Transform**: every model in `sql/transform/`, in order: claim files from `RAW.TRANSFORM_QUEUE`,
   build the validated, deduplicated batch, then write quarantine, `ORDERS`, `EVENTS`, `USERS`,
   `PURCHASE_COUNTS`, and mark the batch done.
4. **Check**: data-quality checks (`sql/checks/`), conservation included. A failed check fails the run at
   once, without retries (retries are for transient errors; bad data does not get better in 15 s), and
   names each check. When all pass, the listing is recorded in the marker: only then does the next run
   with the same listing count as idle. A run failing anywhere leaves the marker alone, so the next run
   does the work again; `mobile_events_replay` resets the marker, so forgotten files reload.

The task log has one line per model (rows changed, seconds) and per check; its XCom holds the load
report, `models` (rows and seconds per model), `checks` (failures per check) and `report_errors`.

Why one task and not a task per step or per model (a task group would keep each one a task): on
LocalExecutor every task is a process that parses this file (about 1 s with the SQS watcher's trigger),
imports the Snowflake driver (about 2 s) and logs in. Measured with `benchmarks/bench_freshness.py` on
a busy machine, that start-up took 5-6 s of every task, and with one run at a time every file also
waits for the whole run before it: the eleven tasks this DAG had (load, a batch id, eight models,
check) were most of the time from landing to fresh rows. Every step is idempotent (the audit decides
what loads, the models MERGE on deterministic ids), so a retry or a clear reruns the task safely.

Triggers: every `ELT_SCHEDULE` (each minute by default) and, when `ELT_SQS_QUEUE_URL` names the queue
that receives the bucket's ObjectCreated notifications, as soon as a file lands (an asset watcher on
that queue, asset `s3://<bucket>/<landing folder>` from `config/aws.json`). SQS messages are deleted on
receipt, so the schedule also sweeps for files no message announced: every run loads *all* files the
audit does not know, whatever woke it.

Connections: `snowflake_default`, `aws_default` (from `AIRFLOW_CONN_*` or the UI); the AWS identity needs
read/write on the marker besides reading the two folders. One active run at a time. Failures are
published to the SNS topic `ELT_ALERTS_TOPIC_ARN` when set, and so is a report's error (a report never fails
the run) once per distinct error, not every run; keys and values in alerts and logs are cut and escaped. A
run that did the work updates the assets `analytics.users`, `analytics.events`, `analytics.orders` and
`analytics.purchase_counts`, so downstream DAGs can run after fresh data.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, dag, task

from mobile_events_elt import config

CONNECTIONS = config.connections()
SNOWFLAKE_CONN_ID = CONNECTIONS.snowflake
AWS_CONN_ID = CONNECTIONS.aws
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

    from mobile_events_elt.config.aws_settings import load_settings

    trigger = MessageQueueTrigger(
        scheme="sqs", sqs_queue=QUEUE_URL, aws_conn_id=AWS_CONN_ID, waiter_delay=1, wait_time_seconds=10
    )
    aws = load_settings()
    landed = Asset(
        f"s3://{aws.bucket}/{aws.firehose.landing_prefix}",
        watchers=[AssetWatcher(name="landing_notifications", trigger=trigger)],
    )
    return AssetOrTimeSchedule(timetable=timetable, assets=landed)


def _failure_alerts() -> list:
    """The failure alert: its message is built in Python from the run id and the exception, each cut and
    escaped (warehouse.log_text), never rendered raw from a template: an exception can quote a key or a value
    that a writer chose, newlines and terminal escapes included."""
    if not ALERTS_TOPIC_ARN:
        return []
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    class FailureAlert(SnsNotifier):
        def notify(self, context) -> None:
            from mobile_events_elt.warehouse.log_text import shown

            task = getattr(context.get("ti"), "task_id", "?")
            self.message = (
                f"Task {shown(task)} of run {shown(context.get('run_id'))} failed: "
                f"{shown(context.get('exception'), 4000)}"
            )
            super().notify(context)

    return [
        FailureAlert(
            aws_conn_id=AWS_CONN_ID, target_arn=ALERTS_TOPIC_ARN, subject="mobile_events_elt failed", message=""
        )
    ]


def _report_alert(report: str, error: str) -> None:
    """Publish a report's new error (already cut and escaped) to the alerts topic. warehouse.checks calls it
    once per distinct error, not every run, and records the error as alerted only after this returns."""
    if not ALERTS_TOPIC_ARN:
        return
    from airflow.providers.amazon.aws.hooks.sns import SnsHook

    SnsHook(aws_conn_id=AWS_CONN_ID).publish_to_target(
        target_arn=ALERTS_TOPIC_ARN,
        subject="mobile_events_elt: a report failed",
        message=f"Report {report} failed; the run went on and its checks decided it. The error: {error}",
    )


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
    @task(multiple_outputs=True, outlets=ANALYTICS_ASSETS)
    def load_transform_check(*, outlet_events=None, ti=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from mobile_events_elt.warehouse import checks, exclusion, pipeline

        try:
            listing = pipeline.find_new_files(AWS_CONN_ID)
        except (pipeline.NothingDelivered, pipeline.FilesNeedAttention) as exc:
            raise AirflowFailException(str(exc)) from exc
        if listing is None:
            raise AirflowSkipException("nothing new in S3 since the last complete run: no warehouse statement")
        try:
            # The run and try name the pipeline's lease and tag the sessions: a retry fences off its earlier try.
            caller = exclusion.Caller.of_task_instance(ti)
            done = pipeline.load_transform_check(
                SNOWFLAKE_CONN_ID, AWS_CONN_ID, caller, listing=listing, on_report_error=_report_alert
            )
        except (checks.ChecksFailed, exclusion.SchemaVersionMismatch) as exc:
            raise AirflowFailException(str(exc)) from exc
        extras = pipeline.asset_extras(done)
        for asset in ANALYTICS_ASSETS:  # each table's event says what its model did in this run
            outlet_events[asset].extra = extras[asset.name.removeprefix("analytics.")]
        unresolved = pipeline.needing_attention(done)
        pipeline.remember_listing(listing, unresolved, AWS_CONN_ID)
        if unresolved:
            # Everything else is loaded and committed; the run fails (and alerts) until a person acts.
            raise AirflowFailException(str(pipeline.FilesNeedAttention(unresolved)))
        return {**done, "listing": listing.summary()}

    load_transform_check()


mobile_events_elt()
