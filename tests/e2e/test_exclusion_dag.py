"""The DAGs take the pipeline's lease under their run and try: a real run of each through ``dag.test()`` leaves
the lease free, its last holder named as the task instance that held it (what another writer would have been
told, and what the sessions' QUERY_TAG carries)."""

from __future__ import annotations

import os

from tests.support.seed import seed_lines
from tests.support.warehouse import point_pipeline_at_emulators, put_ndjson

DAGS = os.path.join(os.path.dirname(__file__), "..", "..", "dags")


def last_holder(conn) -> tuple[str, bool]:
    return conn.cursor().execute("select holder, token is null from raw.pipeline_lease").fetchone()


def test_setup_and_elt_runs_hold_the_lease_as_their_task_instance(
    aws_endpoint, snowflake_server, snowflake_conn, snowflake_database, airflow_home, monkeypatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    s3, bucket = point_pipeline_at_emulators(monkeypatch, snowflake_server, aws_endpoint, snowflake_database)
    bag = DagBag(dag_folder=DAGS)

    setup_run = bag.get_dag("snowflake_setup").test()
    assert setup_run.state == "success"
    assert last_holder(snowflake_conn) == (f"snowflake_setup run {setup_run.run_id} task run_setup_files try 1", True)

    put_ndjson(s3, bucket, seed_lines())
    elt_run = bag.get_dag("mobile_events_elt").test()
    assert elt_run.state == "success"
    holder = f"mobile_events_elt run {elt_run.run_id} task load_transform_check try 1"
    assert last_holder(snowflake_conn) == (holder, True)
