"""
### Event simulation

Runs the event generator into the Kinesis stream, to simulate load or rehearse the pipeline's defences.
Params: `events` (or `duration` in seconds when `events` is 0), `rate` (events/s, 0 = as fast as possible),
`users`, `seed` and the fault rates (`duplicate_rate`, `late_rate`, `malformed_rate`). Manual only; the task's
return value is the generator's report. More: docs/load-simulation.md.
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
        from data_generation.simulation import run_from_params

        return run_from_params(params or {})

    generate()


event_simulation()
