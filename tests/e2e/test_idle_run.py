"""An idle ELT run costs nothing: counted at the Snowflake emulator, it sends no login and no statement.

The DAG runs through ``dag.test()`` against a Snowflake emulator of this module's own, started by the
same launcher with ``--request-log``, so every login and statement the server receives is counted where
it arrives. S3 is the session's AWS emulator.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.seed import seed_lines
from tests.support.statements import Requests, logging_snowflake
from tests.support.warehouse import point_pipeline_at_emulators, put_ndjson, scalar

DAGS = Path(__file__).resolve().parents[2] / "dags"
TASK = "load_transform_check"  # the ELT DAG's one task


@pytest.fixture(scope="module")
def counted_snowflake(run_dir: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """A Snowflake emulator that logs one line per login and per statement it receives."""
    with logging_snowflake(run_dir, "counted") as server_and_log:
        yield server_and_log


@pytest.fixture
def world(counted_snowflake, aws_endpoint, airflow_home, monkeypatch) -> Iterator[dict[str, Any]]:
    import snowflake.connector

    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import setup

    server, log = counted_snowflake
    database = f"IDLE_{uuid.uuid4().hex[:12].upper()}"
    s3, bucket = point_pipeline_at_emulators(monkeypatch, server, aws_endpoint, database)
    conn = snowflake.connector.connect(**server, user="local", database=database)
    conn.cursor().execute(f"create database if not exists {database}")
    setup.run_setup(conn, load_settings())
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).get_dag("mobile_events_elt")
    yield {"s3": s3, "bucket": bucket, "conn": conn, "dag": dag, "requests": Requests(log)}
    conn.close()


def states(run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def asset_events(run: Any) -> int:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(AssetEvent).filter(AssetEvent.source_run_id == run.run_id).count()


def test_idle_runs_send_nothing_and_every_kind_of_pending_work_is_done(world) -> None:
    """One database through six runs (each dag.test() costs seconds, so they share it):
    1. new files, one of them unreadable: the good one is loaded and transformed, then the run fails at
       once (try 1) naming the FAILED file, and publishes nothing;
    2. nothing new, the FAILED file still there: no login, no statement, and the run fails again, naming
       it from the marker (a FAILED file is never silent, and never costs the warehouse);
    3. the bad object removed (which resolves it) and the window replayed: the forgotten files are loaded
       again, the run succeeds and publishes the 4 assets;
    4. nothing new: no login, no statement, the task skipped, no asset event (and once the newest file is
       older than the freshness limit, the task fails instead);
    5. a check fails: the run fails at once, no retry (try 1), and publishes nothing;
    6. the same listing again: not idle, because the failed run did not record it, and its checks look at the
       failed run's rows again (nothing new was written), so it fails again.
    """
    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import pipeline

    dag, requests, conn = world["dag"], world["requests"], world["conn"]
    key = put_ndjson(world["s3"], world["bucket"], seed_lines())
    bad = put_ndjson(world["s3"], world["bucket"], b"\x1f\x8b\x08 truncated gzip")

    requests.mark()
    busy = dag.test()
    sent = requests.since_mark()
    # The counter sees the work of a run with new files, so its zero below means something.
    assert any(r["kind"] == "login" for r in sent) and sum(r["kind"] == "query" for r in sent) > 10
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    assert scalar(conn, f"select count(*) from raw.load_audit where status = 'FAILED' and file_name = '{bad}'") == 1
    assert busy.state == "failed"
    (task,) = busy.get_task_instances()
    assert (task.state, task.try_number) == ("failed", 1)  # a person must act: retrying changes nothing
    assert asset_events(busy) == 0

    requests.mark()
    still = dag.test()
    assert still.state == "failed"
    assert requests.since_mark() == []  # named from the marker: the warehouse is never resumed
    with pytest.raises(pipeline.FilesNeedAttention) as unresolved:
        pipeline.find_new_files()
    assert list(unresolved.value.files) == [bad] and "FAILED" in unresolved.value.files[bad]

    world["s3"].delete_object(Bucket=world["bucket"], Key=bad)
    assert key in pipeline.replay("2000-01-01T00:00:00", "2100-01-01T00:00:00")
    assert scalar(conn, f"select count(*) from raw.load_audit where file_name = '{key}'") == 0
    reloaded = dag.test()
    assert reloaded.state == "success"
    assert asset_events(reloaded) == 4
    assert scalar(conn, f"select count(*) from raw.load_audit where file_name = '{key}'") == 1
    assert scalar(conn, "select count(*) from analytics.orders") == 100

    requests.mark()
    idle = dag.test()
    assert idle.state == "success"
    assert requests.since_mark() == []  # no login, no statement: the warehouse is never resumed
    assert states(idle) == {TASK: "skipped"}
    assert asset_events(idle) == 0
    # Idle for longer than freshness_hours: the run fails (and alerts) as the freshness check would, from S3.
    assert pipeline.find_new_files() is None
    with pytest.raises(pipeline.NothingDelivered, match="no file delivered"):
        pipeline.find_new_files(now=datetime.now(UTC) + timedelta(hours=load_settings().freshness_hours + 1))

    # A purchase count no order accounts for, on the day of a purchase about to arrive again: a day this
    # run's purchase counts are recounted for, so inside what its checks look at.
    purchase = json.loads(seed_lines()[3])
    assert (purchase["ORDER_TYPE"], purchase["STATUS"]) == ("PURCHASE", "COMPLETED")
    conn.cursor().execute(
        "insert into analytics.purchase_counts (user_id, hour, daily, hourly_purchase_count, daily_purchase_count) "
        "values ('ffffffffff', date_trunc('hour', %(t)s::timestamp_ntz), to_date(%(t)s::timestamp_ntz), 1, 1)",
        {"t": purchase["CREATED_AT"]},
    )
    put_ndjson(world["s3"], world["bucket"], seed_lines()[:5])
    failed = dag.test()
    assert failed.state == "failed"
    (task,) = failed.get_task_instances()
    assert (task.state, task.try_number) == ("failed", 1)  # bad data is not retried
    assert asset_events(failed) == 0

    requests.mark()
    again = dag.test()
    assert again.state == "failed"
    assert states(again) == {TASK: "failed"}
    assert any(r["kind"] == "query" for r in requests.since_mark())
