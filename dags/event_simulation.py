"""
### Event simulation

Runs the event generator into the Kinesis stream, to simulate load or rehearse the pipeline's defences.
Params: `events` (or `duration` in seconds when `events` is 0), `rate` (events/s in all, 0 = as fast as
possible), `users`, `seed`, the fault rates, `producers` (the `generate` task is mapped over that many, each
with ids of its own) and `timestamps` (`live` or `seed`). Manual only; `report` sums the producers' reports.
More: docs/load-simulation.md.
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
        "events": Param(1000, type="integer", minimum=0, description="events to send in all; 0 = use duration"),
        "duration": Param(60, type="integer", minimum=1, description="seconds to run when events is 0"),
        "rate": Param(0, type="number", minimum=0, description="events per second in all; 0 = as fast as possible"),
        "users": Param(1000, type="integer", minimum=1, description="size of the simulated user population"),
        "producers": Param(1, type="integer", minimum=1, maximum=64, description="producers sending at once"),
        "timestamps": Param("live", type="string", enum=["live", "seed"], description="live: now; seed: 2024"),
        "seed": Param(0, type="integer", description="same seed and timestamps seed: same events"),
        "duplicate_rate": Param(0.0, type="number", minimum=0, maximum=1),
        "late_rate": Param(0.0, type="number", minimum=0, maximum=1),
        "malformed_rate": Param(0.0, type="number", minimum=0, maximum=1),
    },
)
def event_simulation() -> None:
    @task
    def plan(params: dict | None = None) -> list[dict]:
        from data_generation.simulation import plan_producers

        return plan_producers(params or {})

    @task(multiple_outputs=False, retries=2)
    def generate(part: dict) -> dict:
        from data_generation.simulation import run_producer

        return run_producer(part)

    @task(multiple_outputs=True)
    def report(reports: list[dict]) -> dict:
        from data_generation.report import sum_reports

        return sum_reports(list(reports))

    report(generate.expand(part=plan()))


event_simulation()
