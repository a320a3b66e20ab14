"""
### Event simulation

Runs the event generator (`mobile-events-generate`) into the Kinesis stream from the UI, to simulate
load or rehearse the pipeline's defences. Pick the volume (`events`, or `duration` in seconds when
`events` is 0), the `rate` (events per second, 0 = as fast as possible), the user population and the
fault rates (duplicates, late events, malformed records). The task log shows the generator's progress
and its final report (sent, retried, failed, spooled); the report is also the task's return value.

Manual only. The ELT DAG picks the events up once Firehose (or, locally, `mobile-events-stack firehose`)
has delivered them.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    dag_id="event_simulation",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0, "retry_delay": timedelta(seconds=15)},
    tags=["mobile-events", "simulation", "kinesis"],
    doc_md=__doc__,
    params={
        "events": Param(1000, type="integer", minimum=0, description="events to send; 0 = use duration"),
        "duration": Param(60, type="integer", minimum=1, description="seconds to run when events is 0"),
        "rate": Param(0, type="number", minimum=0, description="events per second; 0 = as fast as possible"),
        "users": Param(1000, type="integer", minimum=1, description="size of the simulated user population"),
        "seed": Param(0, type="integer", description="same seed, same events"),
        "duplicate_rate": Param(0.0, type="number", minimum=0, maximum=1),
        "late_rate": Param(0.0, type="number", minimum=0, maximum=1),
        "malformed_rate": Param(0.0, type="number", minimum=0, maximum=1),
    },
)
def event_simulation() -> None:
    @task(multiple_outputs=True)
    def generate(params: dict | None = None) -> dict:
        from mobile_events_elt.data_generation.simulation import run_from_params

        return run_from_params(params or {})

    generate()


event_simulation()
