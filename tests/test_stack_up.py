"""`make up` for real: the whole long-running stack on free ports, an ELT run through the REST API, `make down`.

The slowest test of the suite (about two minutes): it starts the real scheduler, API server, DAG
processor and triggerer, as a user's `make up` does, in a state folder of its own.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from local_stack import processes
from local_stack.ports import free_port, is_listening

pytestmark = pytest.mark.slow


def api(port: int, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_make_up_runs_the_elt_dag_on_a_dropped_file_and_make_down_stops_everything(tmp_path: Path) -> None:
    ports = {"AWS_EMULATOR_PORT": free_port(), "SNOWFLAKE_EMULATOR_PORT": free_port(), "AIRFLOW_PORT": free_port()}
    env = {**os.environ, "LOCAL_STACK_STATE": str(tmp_path / "state"), **{k: str(v) for k, v in ports.items()}}
    env.pop("AIRFLOW_HOME", None)

    def stack(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "local_stack", command], env=env, capture_output=True, text=True, timeout=300
        )

    run_dir = tmp_path / "state" / "run"
    up = stack("up")
    pids = [int(p.read_text()) for p in run_dir.glob("*.pid")]
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert len(pids) == 8  # 2 emulators, 4 Airflow components, Firehose delivery, generator
        airflow_port = ports["AIRFLOW_PORT"]
        assert api(airflow_port, "GET", "/dags/mobile_events_elt")["is_paused"] is False

        # A file dropped by hand into the landing prefix, as a user would with the AWS CLI.
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{ports['AWS_EMULATOR_PORT']}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        from tests.seed import seed_records

        marker = uuid.uuid4().hex
        records = [{**r, "EVENT_ID": f"{marker}-{i}"} for i, r in enumerate(seed_records()[:5])]
        body = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
        s3.put_object(Bucket="mobile-events-landing-local", Key=f"landing/manual/{marker}.json.gz", Body=body)

        run_id = api(airflow_port, "POST", "/dags/mobile_events_elt/dagRuns", {"logical_date": None})["dag_run_id"]
        deadline = time.monotonic() + 240
        state = "queued"
        while time.monotonic() < deadline and state not in ("success", "failed"):
            time.sleep(3)
            state = api(airflow_port, "GET", f"/dags/mobile_events_elt/dagRuns/{run_id}")["state"]
        assert state == "success"

        import snowflake.connector

        conn = snowflake.connector.connect(
            host="127.0.0.1",
            port=ports["SNOWFLAKE_EMULATOR_PORT"],
            protocol="http",
            account="local",
            user="local",
            password="local",
            database="MOBILE_EVENTS",
            network_timeout=30,
        )
        try:
            loaded = conn.cursor().execute(
                "select count(*) from analytics.orders where source_event_id like %(marker)s", {"marker": f"{marker}-%"}
            )
            assert loaded.fetchone()[0] == 5
        finally:
            conn.close()
    finally:
        down = stack("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert list(run_dir.glob("*.pid")) == []
    assert not any(is_listening(p) for p in ports.values())
    assert not any(processes.alive(p) for p in pids)
    for pid in pids:  # nor any child they started (each leads its own process group)
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
