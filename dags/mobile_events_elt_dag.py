"""
### Mobile events ELT

Loads the files Firehose delivered to S3 into Snowflake and builds the dbt project on them (the analytics
tables and their data tests), in one task, `load_transform_check`. The task skips itself, without touching
Snowflake, when S3 shows nothing new since the last complete run; a failed data test fails the run at once and
names each test.

Runs every `ELT_SCHEDULE` (each minute) and, when `ELT_SQS_QUEUE_URL` is set, as soon as a file lands; for up
to `ELT_CATCH_UP_SECONDS` a run also takes the files that land while it works, in further passes. Uses
`aws_default` and `snowflake_default`; alerts go to `ELT_ALERTS_TOPIC_ARN`. More: docs/architecture.md,
docs/exactly-once.md.
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
# How long a run keeps taking files that landed while it worked (0: one pass): below the schedule's minute.
CATCH_UP_SECONDS = float(os.environ.get("ELT_CATCH_UP_SECONDS", "30"))

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
    """Publish a report's new error (already cut and escaped) to the alerts topic. warehouse.reports calls it
    once per distinct error, not every run, and records the error as alerted only after this returns."""
    if not ALERTS_TOPIC_ARN:
        return
    from airflow.providers.amazon.aws.hooks.sns import SnsHook

    SnsHook(aws_conn_id=AWS_CONN_ID).publish_to_target(
        target_arn=ALERTS_TOPIC_ARN,
        subject="mobile_events_elt: a report failed",
        message=f"Report {report} failed; the run went on and its data tests decided it. The error: {error}",
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

        from mobile_events_elt.warehouse import exclusion, pipeline, transform

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
                SNOWFLAKE_CONN_ID,
                AWS_CONN_ID,
                caller,
                listing=listing,
                on_report_error=_report_alert,
                catch_up_seconds=CATCH_UP_SECONDS,
            )
        except (transform.ChecksFailed, exclusion.SchemaVersionMismatch) as exc:
            raise AirflowFailException(str(exc)) from exc
        extras = pipeline.asset_extras(done)
        for asset in ANALYTICS_ASSETS:  # each table's event says what its model did in this run
            outlet_events[asset].extra = extras[asset.name.removeprefix("analytics.")]
        listing = done.pop("listing")  # the last pass's: it covers every file the run loaded
        unresolved = pipeline.needing_attention(done)
        pipeline.remember_listing(listing, unresolved, AWS_CONN_ID)
        if unresolved:
            # Everything else is loaded and committed; the run fails (and alerts) until a person acts.
            raise AirflowFailException(str(pipeline.FilesNeedAttention(unresolved)))
        return {**done, "listing": listing.summary()}

    load_transform_check()


mobile_events_elt()
