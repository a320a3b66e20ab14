"""
### Replay delivered files

Forgets the files S3 received between `since` and `until` (ISO-8601, UTC), then triggers `mobile_events_elt`,
which loads them again; nothing is counted twice. Use it after fixing a file, changing a loading rule or to
retry FAILED files. Manual only; holds the pipeline's lease while it forgets. More: docs/exactly-once.md.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, chain, dag, task

import config

CONNECTIONS = config.connections()


@dag(
    dag_id="mobile_events_replay",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=15)},
    tags=["mobile-events", "elt", "backfill"],
    doc_md=__doc__,
    params={
        "since": Param("2026-01-01T00:00:00", type="string", description="first delivery time to replay (UTC)"),
        "until": Param("2026-01-02T00:00:00", type="string", description="replay files delivered before this"),
    },
)
def mobile_events_replay() -> None:
    @task
    def forget_files(params: dict | None = None, ti=None) -> list[str]:
        from warehouse import exclusion, pipeline

        params = params or {}
        caller = exclusion.Caller.of_task_instance(ti)
        return pipeline.replay(params["since"], params["until"], CONNECTIONS.snowflake, CONNECTIONS.aws, caller)

    chain(
        forget_files(),
        TriggerDagRunOperator(task_id="run_elt", trigger_dag_id="mobile_events_elt", wait_for_completion=False),
    )


mobile_events_replay()
