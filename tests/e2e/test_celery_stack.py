"""The distributed stack (`make up EXECUTOR=celery WORKERS=2`) for real: Celery workers, Redis, PostgreSQL.

One stack on free ports in a state folder of its own, without the background generator (so every event in
the tables is one this module sent). In order:

1. the ELT DAG runs on both workers (one run each, the other not taking tasks meanwhile): each run's task
   names the worker that ran it (its hostname and its log);
2. a worker killed mid-run: a simulation over 4 mapped producers on the 2 workers; while they send, one
   worker is killed with SIGKILL (its whole process group: the worker and the tasks it runs, as when its
   machine dies); the scheduler finds the task gone (heartbeat timeout, shortened here) and its retry sends
   that producer's stream again on the surviving worker. Every event then reaches the tables exactly once:
   the conservation line says 0 lost, 0 duplicated (the re-sent records are removed as duplicates);
3. `down` stops every process by its PID and leaves no process and no port behind, and the state folder
   owner-only again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mobile_events_elt.local_stack import processes
from mobile_events_elt.local_stack.demo import reconcile
from mobile_events_elt.local_stack.ports import PORTS, free_port, is_listening
from tests.support.paths import REPO, mode

pytestmark = pytest.mark.slow

ELT = "mobile_events_elt"
SIMULATION = "event_simulation"
PRODUCERS = 4
EVENTS = 60_000  # in all, at RATE events/s in all: the producers send for about 30 s, whatever the machine
RATE = 2_000
HEARTBEAT_TIMEOUT = 30  # seconds before the scheduler fails a task whose worker died (Airflow's default: 300)
RUN_TIMEOUT = 600.0


@dataclass
class Stack:
    env: dict[str, str]
    state: Path

    @property
    def run_dir(self) -> Path:
        return self.state / "run"

    def port(self, name: str) -> int:
        return int(self.env[PORTS[name][0]])

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mobile_events_elt.local_stack", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port('airflow')}/api/v2{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code} {exc.read().decode(errors='replace')}") from exc

    def trigger(self, dag: str, conf: dict | None = None) -> str:
        return self.api("POST", f"/dags/{dag}/dagRuns", {"logical_date": None, "conf": conf or {}})["dag_run_id"]

    def task_instances(self, dag: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/dags/{dag}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def wait_for_run(self, dag: str, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"/dags/{dag}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(2)
        raise AssertionError(f"{dag} {run_id} did not finish within {timeout:.0f}s: {self.task_instances(dag, run_id)}")

    def consume(self, worker: str, on: bool) -> None:
        """Have a worker take tasks from Airflow's queue again, or stop taking them (it keeps running)."""
        action = "add_consumer" if on else "cancel_consumer"
        script = (
            "import json, sys\n"
            "from airflow.providers.celery.executors.celery_executor_utils import app\n"
            f"print(json.dumps(app.control.{action}('default', destination=[sys.argv[1]], reply=True)))\n"
        )
        deadline = time.monotonic() + 120
        while True:  # a worker answers remote control only once its control consumer is up (after "ready")
            result = self.command("run", "--", sys.executable, "-c", script, f"{worker}@{socket.gethostname()}")
            if (result.returncode == 0 and '"ok"' in result.stdout) or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert result.returncode == 0 and '"ok"' in result.stdout, result.stdout + result.stderr[-2000:]
        if not on:
            time.sleep(3)  # a fetch it started before (kombu polls Redis for 1 s at a time) has ended

    def warehouse_counts(self) -> tuple[dict[str, int], int]:
        """Rows per table and distinct orders, read through the stack's own Snowflake connection."""
        script = "import json; from local_stack.demo import warehouse_counts; print(json.dumps(warehouse_counts({})))"
        result = self.command("run", "--", sys.executable, "-c", script)
        assert result.returncode == 0, result.stderr
        counts, distinct = json.loads(result.stdout.strip().splitlines()[-1])
        return counts, distinct


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The PostgreSQL server's user (when the tests run as root) must be able to enter the state folder's
    # parents: pytest's own temporary folder is closed to other users, so the state goes under /tmp.
    root = Path(tmp_path_factory.mktemp("celery"))
    holder = Path(subprocess.check_output(["mktemp", "-d", "/tmp/celery-stack-XXXXXX"], text=True).strip())
    holder.chmod(0o711)
    state = holder / "state"
    ports = {variable: str(free_port()) for variable, _ in PORTS.values()}
    env = {
        **os.environ,
        **ports,
        "LOCAL_STACK_STATE": str(state),
        "LOCAL_STACK_GENERATOR": "off",
        "ELT_CATCH_UP_SECONDS": "5",  # the producers' files land for a while: shorter catch-up, shorter runs
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "PYTHONPATH": str(REPO),
    }
    env.pop("AIRFLOW_HOME", None)
    stack = Stack(env=env, state=state)
    started = time.monotonic()
    result = stack.command("up", "--executor", "celery", "--workers", "2")
    (root / "up.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"celery stack up in {time.monotonic() - started:.1f}s")
    try:
        yield stack
    finally:
        stack.command("down")  # again, in case a test failed before the last one
        shutil.rmtree(holder, ignore_errors=True)


def _worker(ti: dict) -> str:
    return ti["hostname"].split("@")[0]


def test_the_elt_dag_runs_on_both_workers_and_its_log_names_the_worker(celery_stack: Stack) -> None:
    """One ELT run per worker, the other told to stop taking tasks meanwhile (Celery's cancel_consumer)."""
    for worker, other in (("worker-1", "worker-2"), ("worker-2", "worker-1")):
        celery_stack.consume(other, False)
        try:
            run_id = celery_stack.trigger(ELT)
            started = time.monotonic()
            assert celery_stack.wait_for_run(ELT, run_id) == "success"
            print(f"{run_id} on {worker}: {time.monotonic() - started:.1f}s")
        finally:
            celery_stack.consume(other, True)
        (ti,) = celery_stack.task_instances(ELT, run_id)
        assert _worker(ti) == worker, ti["hostname"]
        log = celery_stack.api("GET", f"/dags/{ELT}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/logs/1")
        assert f"Celery worker: {ti['hostname']}" in json.dumps(log), f"the log of {run_id} does not name its worker"


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(celery_stack: Stack) -> None:
    assert not celery_stack.api("PATCH", f"/dags/{SIMULATION}", {"is_paused": False})["is_paused"]
    run_id = celery_stack.trigger(SIMULATION, {"producers": PRODUCERS, "events": EVENTS, "rate": RATE})
    victim = _a_sending_worker(celery_stack, run_id)
    pid = int((celery_stack.run_dir / f"airflow-{victim}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)  # the worker and every task it runs, at once
    assert celery_stack.wait_for_run(SIMULATION, run_id) == "success"
    producers = [ti for ti in celery_stack.task_instances(SIMULATION, run_id) if ti["map_index"] >= 0]
    assert len(producers) == PRODUCERS, producers
    retried = [ti for ti in producers if ti["try_number"] > 1]
    assert retried, "no producer was retried: the kill came too late"
    assert all(_worker(ti) != victim for ti in retried)
    report = _summed_reports(celery_stack, run_id, producers)
    lost, duplicated, line = _settled_conservation(celery_stack, report)
    print(f"killed {victim}; retried on the other: producers {sorted(ti['map_index'] for ti in retried)}")
    print(line)
    assert (lost, duplicated) == (0, 0), line


def test_down_leaves_no_process_and_no_port(celery_stack: Stack) -> None:
    pids = {p.stem: int(p.read_text()) for p in celery_stack.run_dir.glob("*.pid")}
    assert {"postgres", "redis", "airflow-worker-1", "airflow-scheduler"} <= set(pids)
    result = celery_stack.command("down")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [name for name, pid in pids.items() if processes.alive(pid)]
    assert not [name for name in PORTS if is_listening(celery_stack.port(name))]
    assert not list(celery_stack.run_dir.glob("*.pid"))
    assert mode(celery_stack.state) == 0o700  # no longer open to the PostgreSQL server's user


def _a_sending_worker(stack: Stack, run_id: str, timeout: float = 300.0) -> str:
    """The worker of a producer whose log shows it sending, once producers run on both workers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [
            ti for ti in stack.task_instances(SIMULATION, run_id) if ti["map_index"] >= 0 and ti["state"] == "running"
        ]
        if len({_worker(ti) for ti in running}) == 2:
            for ti in running:
                path = f"/dags/{SIMULATION}/dagRuns/{run_id}/taskInstances/generate/logs/{ti['try_number']}"
                if "progress:" in json.dumps(stack.api("GET", f"{path}?map_index={ti['map_index']}")):
                    return _worker(ti)
        time.sleep(1)
    raise AssertionError(f"no producer was seen sending on both workers: {stack.task_instances(SIMULATION, run_id)}")


def _summed_reports(stack: Stack, run_id: str, producers: list[dict]) -> dict[str, int]:
    """The producers' final reports (each successful try's return value), summed."""
    total = {"unique_events": 0, "malformed": 0}
    for ti in producers:
        path = f"/dags/{SIMULATION}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/xcomEntries/return_value"
        value = stack.api("GET", f"{path}?map_index={ti['map_index']}")["value"]
        report = json.loads(value) if isinstance(value, str) else value
        for key in total:
            total[key] += int(report.get(key, 0))
    return total


def _settled_conservation(stack: Stack, report: dict[str, int], timeout: float = RUN_TIMEOUT) -> tuple[int, int, str]:
    """Once the tables hold every event sent (or time is up), one more ELT run, then the conservation line."""
    sent = report["unique_events"] + report["malformed"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts, distinct = stack.warehouse_counts()
        if distinct + counts["raw.rejected_events"] >= sent:
            break
        assert stack.wait_for_run(ELT, stack.trigger(ELT)) == "success"
    assert stack.wait_for_run(ELT, stack.trigger(ELT)) == "success"  # nothing left to load, nothing doubled
    counts, distinct = stack.warehouse_counts()
    return reconcile(report, counts, distinct)
