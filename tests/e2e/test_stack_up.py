"""`make up` for real: the whole long-running stack on free ports, ELT runs through the REST API, `make down`.

The slowest test of the suite: it starts the
real scheduler, API server, DAG processor and triggerer, as a user's `make up` does, in a state folder
of its own, and checks that the pipeline keeps every event exactly once when Airflow does what Airflow
does:

1. two triggers close together: two runs POSTed back to back after a file was dropped (max_active_runs=1
   queues them); the file is loaded exactly once although both runs look for new files;
2. a finished run cleared and rerun (clearTaskInstances, reset_dag_runs): every task runs again, counts
   of everything already transformed are unchanged;
3. a task retried after a real failure: the Snowflake emulator is stopped by its PID as a third run
   starts, a new file is dropped, the load fails (connection refused) and is retried (retries=2,
   retry_delay=15s) after the emulator is restarted exactly as `up` started it (same argv, same
   file-backed database: tables, rows, stages and file formats survive); the new file is loaded exactly
   once, by that retry.

4. the "Pipeline health" page: once the stream is stopped and every file is loaded and transformed, the
   page served by the API server (the Airflow plugin) is opened in headless Chromium; every section must
   show what direct queries of the tables give, the UI's navigation must list it, and `make report`'s
   static report must show the same figures. Screenshots go to .local/screenshots/.

The first three share one stack (start-up is paid once) and overlap where Airflow allows: the cleared run
and the third run are queued behind the double trigger, ahead of any background run. The stack keeps
doing its own work meanwhile (a generator streams 5 events/s, the local Firehose writes a file every
~10 s, S3 notifications and a cron schedule start runs), so counts are compared per file: the files
dropped here exactly, every file already transformed unchanged, no key anywhere twice.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mobile_events_elt.local_stack import processes
from mobile_events_elt.local_stack.ports import free_port, is_listening
from tests.support.health_page import VOLUME_EVENTS

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAG = "mobile_events_elt"
LOAD_TASK = "load_transform_check"  # dags/mobile_events_elt_dag.py: its one task (load, models, checks)
BUCKET = "mobile-events-landing-local"  # config/aws.json
STEP_COLUMNS = ("INITIAL_EVENT", "EVENT_2", "EVENT_3", "EVENT_OUT")  # one analytics.events row per non-null step
RUN_TIMEOUT = 300.0  # a run waits behind at most a couple of others, each ~25 s


# --- the stack ---------------------------------------------------------------------------------------


@dataclass
class Stack:
    ports: dict[str, int]
    env: dict[str, str]
    run_dir: Path
    pids: list[int] = field(default_factory=list)  # every process it started, restarted ones included
    timings: dict[str, float] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    clock: float = field(default_factory=time.monotonic)

    def mark(self, event: str) -> None:
        """Record when something happened, in seconds since the scenarios began."""
        self.timings[f"@{event}"] = time.monotonic() - self.clock

    @property
    def airflow_port(self) -> int:
        return self.ports["AIRFLOW_PORT"]

    @property
    def snowflake_port(self) -> int:
        return self.ports["SNOWFLAKE_EMULATOR_PORT"]

    def command(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mobile_events_elt.local_stack", command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def new_stack(tmp_path: Path) -> Stack:
    ports = {"AWS_EMULATOR_PORT": free_port(), "SNOWFLAKE_EMULATOR_PORT": free_port(), "AIRFLOW_PORT": free_port()}
    # The stream lands a file every ~10 s, so with the default 30 s of catch-up every run here would pass for 30 s
    # and more; 5 s keeps a run's later passes (a file landing during one) and the scenarios' runs short.
    env = {
        **os.environ,
        "LOCAL_STACK_STATE": str(tmp_path / "state"),
        "ELT_CATCH_UP_SECONDS": "5",
        **{k: str(v) for k, v in ports.items()},
    }
    env.pop("AIRFLOW_HOME", None)
    return Stack(ports=ports, env=env, run_dir=tmp_path / "state" / "run")


def stop_snowflake(stack: Stack) -> tuple[list[str], float]:
    """Stop the Snowflake emulator by its PID; return the argv it was started with and the seconds it took."""
    pid = int((stack.run_dir / "snowflake.pid").read_text())
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    started = time.monotonic()
    assert processes.stop("snowflake", stack.run_dir), f"the Snowflake emulator (pid {pid}) was not running"
    assert not is_listening(stack.snowflake_port)
    return argv, time.monotonic() - started


def start_snowflake(stack: Stack, argv: list[str]) -> float:
    """Start the Snowflake emulator again as `up` did (same argv, so the same port and --data-dir)."""
    started = time.monotonic()
    pid = processes.start(
        "snowflake", argv, stack.run_dir, env={**stack.env, "PYTHONPATH": str(REPO)}, wait_port=stack.snowflake_port
    )
    stack.pids.append(pid)
    # It is this process's child now, not init's: reap it when `down` stops it, or `down` would wait for a zombie.
    threading.Thread(target=reap, args=(pid,), daemon=True).start()
    return time.monotonic() - started


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


# --- Airflow's REST API ------------------------------------------------------------------------------


def api(stack: Stack, method: str, path: str, body: dict | None = None) -> dict:
    """One REST call; a "Database error" (HTTP 500) is retried, as any client would, and noted in stack.findings.

    Upstream defect (Airflow 3.3.2, ``api_fastapi/logging/decorators.py``): the audit-log dependency
    ``async def log_action`` commits with a synchronous session on the API server's event loop. On
    SQLite (one writer at a time) that commit waits for the write lock held by an execution-API request
    of the same process (a task starting, ``PATCH /execution/task-instances/.../run``), which cannot finish
    while the loop is blocked: both wait until sqlite3's 5 s busy timeout breaks the tie, and the trigger
    fails with HTTP 500 having changed nothing (seen on the second of two back-to-back dagRuns POSTs; a
    30 s busy timeout only made the same deadlock last 30 s). Postgres, as docker-compose.yaml uses, has
    no single write lock.
    """
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.airflow_port}/api/v2{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    for attempt in range(1, 4):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            if exc.code != 500 or "Database error" not in detail or attempt == 3:
                raise AssertionError(f"{method} {path}: HTTP {exc.code} {detail}") from exc
            stack.findings.append(f"{method} {path}: HTTP 500 Database error (try {attempt}), retried: {detail}")
            time.sleep(1)
    raise AssertionError("unreachable")


def trigger(stack: Stack) -> str:
    return api(stack, "POST", f"/dags/{DAG}/dagRuns", {"logical_date": None})["dag_run_id"]


def dag_run(stack: Stack, run_id: str) -> dict:
    return api(stack, "GET", f"/dags/{DAG}/dagRuns/{run_id}")


def task_instances(stack: Stack, run_id: str) -> dict[str, dict]:
    found = api(stack, "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances")["task_instances"]
    return {ti["task_id"]: ti for ti in found}


def try_numbers(stack: Stack, run_id: str) -> dict[str, int]:
    return {task: ti["try_number"] for task, ti in task_instances(stack, run_id).items()}


def load_report(stack: Stack, run_id: str) -> dict:
    """What the run's load task returned (warehouse.loader.LoadReport as a dict)."""
    path = f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{LOAD_TASK}/xcomEntries/return_value"
    value = api(stack, "GET", path)["value"]
    return json.loads(value) if isinstance(value, str) else value


def clear_run(stack: Stack, run_id: str) -> None:
    """Clear every task of a finished run and put the run back in the queue, as the UI's "Clear" does."""
    body = {"dag_run_id": run_id, "only_failed": False, "reset_dag_runs": True, "dry_run": False}
    cleared = api(stack, "POST", f"/dags/{DAG}/clearTaskInstances", body)["task_instances"]
    assert cleared, f"clearing {run_id} cleared nothing"


def describe(stack: Stack, run_ids: list[str]) -> str:
    """The state of the given runs and their task instances, and of every unfinished run: for failures."""
    lines = []
    try:
        for run_id in run_ids:
            lines.append(f"{run_id}: {dag_run(stack, run_id)['state']}")
            for task, ti in sorted(task_instances(stack, run_id).items(), key=lambda t: -t[1]["priority_weight"]):
                lines.append(f"    {task:<16} {ti['state']!s:<14} try {ti['try_number']}")
        active = api(stack, "GET", f"/dags/{DAG}/dagRuns?state=queued&state=running")["dag_runs"]
        lines += [f"unfinished: {r['dag_run_id']} {r['state']} (run_after {r['run_after']})" for r in active]
    except (AssertionError, OSError) as exc:
        lines.append(f"(could not read the state: {exc})")
    return "\n".join(lines)


def poll(what: str, check: Callable[[], Any], timeout: float, interval: float, context: Callable[[], str]) -> Any:
    """Call check until it returns something truthy; fail with context() after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{context()}")
        time.sleep(interval)


def wait_for_success(stack: Stack, run_ids: list[str], timeout: float = RUN_TIMEOUT) -> None:
    def all_succeeded() -> bool:
        states = {run_id: dag_run(stack, run_id)["state"] for run_id in run_ids}
        if "failed" in states.values():
            pytest.fail(f"a run failed: {states}\n{describe(stack, run_ids)}")
        return all(state == "success" for state in states.values())

    poll(f"runs {run_ids} to succeed", all_succeeded, timeout, 1.0, lambda: describe(stack, run_ids))


# --- files and the warehouse -------------------------------------------------------------------------


@dataclass(frozen=True)
class Dropped:
    """A file dropped by hand into the landing prefix: seed records, each with an EVENT_ID of its own."""

    key: str
    marker: str
    records: list[dict]

    @property
    def steps(self) -> int:
        return sum(1 for r in self.records for c in STEP_COLUMNS if r[c] not in (None, "Null"))


def s3_client(stack: Stack) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{stack.ports['AWS_EMULATOR_PORT']}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def drop_file(s3: Any, records: list[dict]) -> Dropped:
    marker = uuid.uuid4().hex
    records = [{**r, "EVENT_ID": f"{marker}-{i}"} for i, r in enumerate(records)]
    body = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    # Where Firehose would put it now: a run lists the hour folders Firehose can still write to.
    key = f"landing/{datetime.now(UTC):year=%Y/month=%m/day=%d/hour=%H}/manual-{marker}.json.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return Dropped(key=key, marker=marker, records=records)


def connect(stack: Stack, database: str | None = "MOBILE_EVENTS") -> Any:
    import snowflake.connector

    from mobile_events_elt.local_stack.environment import snowflake_login_secret

    return snowflake.connector.connect(
        host="127.0.0.1",
        port=stack.snowflake_port,
        protocol="http",
        account="local",
        user="local",
        password=snowflake_login_secret(Path(stack.env["LOCAL_STACK_STATE"]) / "snowflake"),
        database=database,
        network_timeout=30,
    )


def query(stack: Stack, sql: str, params: dict | None = None) -> list[tuple]:
    conn = connect(stack)
    try:
        return conn.cursor().execute(sql, params or {}).fetchall()
    finally:
        conn.close()


def assert_stage_survived(stack: Stack) -> None:
    """The restarted emulator still has the internal stage the loader PUTs to (and its file format).

    fakesnow keeps that catalog in memory; without the launcher's fix the restarted emulator had its tables
    but no stages or file formats, and every retry failed on PUT ("Stage ... does not exist").
    """
    stages = query(stack, "show stages in schema mobile_events.raw")
    formats = query(stack, "show file formats in schema mobile_events.raw")
    assert stages and formats, f"the restarted Snowflake emulator lost stages {stages} or file formats {formats}"


PER_FILE = {
    "raw.events_raw": "select file_name, count(*) from raw.events_raw group by file_name",
    "raw.rejected_events": "select file_name, count(*) from raw.rejected_events group by file_name",
    "analytics.orders": "select file_name, count(*) from analytics.orders group by file_name",
    "analytics.events": (
        "select o.file_name, count(*) from analytics.events as e"
        " inner join analytics.orders as o on e.order_id = o.order_id group by o.file_name"
    ),
}


def transformed_file_counts(stack: Stack) -> dict[str, dict[str, int]]:
    """Rows per table and file, for the files whose transform has finished (their counts are final)."""
    done = {name for (name,) in query(stack, "select file_name from raw.load_audit where transformed_at is not null")}
    counts = {}
    for table, sql in PER_FILE.items():
        counts[table] = {name: int(n) for name, n in query(stack, sql) if name in done}
    counts["files"] = dict.fromkeys(done, 1)
    return counts


def assert_unchanged_since(stack: Stack, before: dict[str, dict[str, int]], what: str) -> None:
    now = transformed_file_counts(stack)
    changed = {
        table: {name: (n, now[table].get(name, 0)) for name, n in rows.items() if now[table].get(name, 0) != n}
        for table, rows in before.items()
    }
    changed = {table: rows for table, rows in changed.items() if rows}
    assert not changed, f"{what}: rows of files transformed before it changed (file: (before, after)): {changed}"


def assert_loaded_once(stack: Stack, dropped: Dropped) -> None:
    n = len(dropped.records)
    audit = query(
        stack,
        "select status, rows_loaded, rows_rejected, transformed_at is not null as done from raw.load_audit"
        " where file_name = %(key)s",
        {"key": dropped.key},
    )
    assert audit == [("LOADED", n, 0, True)], f"{dropped.key}: load_audit rows {audit}"
    raw = query(
        stack,
        "select count(*), count(distinct event_key) from raw.events_raw where file_name = %(key)s",
        {"key": dropped.key},
    )
    assert raw == [(n, n)], f"{dropped.key}: raw.events_raw (rows, distinct keys) {raw[0]}, expected {n}"
    like = {"ids": f"{dropped.marker}-%"}
    orders = query(
        stack, "select count(*), count(distinct order_id) from analytics.orders where order_id like %(ids)s", like
    )
    assert orders == [(n, n)], f"{dropped.key}: analytics.orders (rows, distinct ids) {orders[0]}, expected {n}"
    events = query(stack, "select count(*) from analytics.events where order_id like %(ids)s", like)[0][0]
    assert events == dropped.steps, f"{dropped.key}: analytics.events {events} rows, expected {dropped.steps}"


UNIQUE_KEYS = {
    "raw.load_audit": "file_name || ':' || file_etag",
    "raw.rejected_events": "reject_id",
    "analytics.orders": "order_id",
    "analytics.events": "event_id",
    "analytics.users": "user_id",
    "analytics.purchase_counts": "user_id || ':' || hour",
}


def assert_no_duplicates(stack: Stack) -> None:
    sql = "select count(*), count(distinct {}) from {}"  # table and key: the constants above
    counts = {table: query(stack, sql.format(key, table))[0] for table, key in UNIQUE_KEYS.items()}
    duplicated = {table: rows for table, rows in counts.items() if rows[0] != rows[1]}
    assert not duplicated, f"keys held twice (rows, distinct keys): {duplicated}"
    loaded, raw = query(
        stack,
        "select (select sum(rows_loaded) from raw.load_audit where status = 'LOADED'),"
        " (select count(*) from raw.events_raw)",
    )[0]
    assert loaded == raw, f"raw.events_raw holds {raw} rows, the load audit accounts for {loaded}"


# --- the scenarios -----------------------------------------------------------------------------------


@dataclass
class Scenarios:
    """What the scenarios started and saw, for the assertions at the end."""

    first: Dropped | None = None
    double: tuple[str, str] = ("", "")
    baseline: dict[str, dict[str, int]] = field(default_factory=dict)
    cleared: str = ""
    tries_before_clear: dict[str, int] = field(default_factory=dict)
    snapshot_at_clear: dict[str, dict[str, int]] = field(default_factory=dict)
    retried_run: str = ""
    during_outage: Dropped | None = None


def start_double_trigger(stack: Stack, s3: Any, seen: Scenarios) -> None:
    """Scenario 1: a new file, then two runs POSTed back to back (no wait between them)."""
    from tests.support.seed import seed_records

    seen.baseline = transformed_file_counts(stack)
    seen.first = drop_file(s3, seed_records()[:5])
    seen.double = (trigger(stack), trigger(stack))


def start_clear_and_rerun(stack: Stack, seen: Scenarios) -> None:
    """Scenario 2: once the first run succeeded, clear all its tasks and reset it (it queues again)."""
    run_id = seen.double[0]
    wait_for_success(stack, [run_id])
    stack.mark("first run succeeded")
    seen.tries_before_clear = try_numbers(stack, run_id)
    seen.snapshot_at_clear = transformed_file_counts(stack)
    clear_run(stack, run_id)
    seen.cleared = run_id


def fail_snowflake_under_a_run(stack: Stack, s3: Any, seen: Scenarios) -> None:
    """Scenario 3: stop the Snowflake emulator as a run starts, drop a file, restart once a task failed.

    The run is triggered now, so it queues behind the double trigger and the cleared run and ahead of
    any run the stack starts by itself (max_active_runs=1). The emulator is stopped the moment the
    scheduler starts the run (its first task, the load, connects ~2.5 s later), and the file is dropped
    then: every run ahead has finished, so only this run's retried load can find it.
    """
    from tests.support.seed import seed_records

    run_id = seen.retried_run = trigger(stack)
    ahead = [*seen.double]

    def started() -> bool:
        return dag_run(stack, run_id)["state"] != "queued"

    poll(f"{run_id} to start", started, RUN_TIMEOUT, 0.2, lambda: describe(stack, [*ahead, run_id]))
    stack.mark("third run started")
    argv, stop_seconds = stop_snowflake(stack)
    outage = time.monotonic()
    seen.during_outage = drop_file(s3, seed_records()[5:10])

    def a_task_failed() -> str | None:
        failed = [t for t, ti in task_instances(stack, run_id).items() if ti["state"] in ("up_for_retry", "failed")]
        return failed[0] if failed else None

    task = poll(f"a task of {run_id} to fail", a_task_failed, 120, 0.5, lambda: describe(stack, [run_id]))
    stack.timings["snowflake stop (SIGINT)"] = stop_seconds
    stack.timings[f"stop -> {task} failed"] = time.monotonic() - outage
    stack.timings["snowflake restart"] = start_snowflake(stack, argv)
    assert_stage_survived(stack)
    stack.timings["snowflake down"] = time.monotonic() - outage


def assert_scenarios(stack: Stack, seen: Scenarios) -> None:
    assert seen.first is not None and seen.during_outage is not None
    # 1. Both runs of the double trigger succeeded; the file is in the tables once; older files unchanged.
    assert_loaded_once(stack, seen.first)
    assert_unchanged_since(stack, seen.baseline, "the double trigger")
    # 2. The cleared run ran every task again and succeeded; nothing already transformed changed.
    tries_after = try_numbers(stack, seen.cleared)
    before = seen.tries_before_clear
    not_rerun = {t: (n, tries_after.get(t)) for t, n in before.items() if not tries_after.get(t, 0) > n}
    assert not not_rerun, f"tasks of {seen.cleared} not run again (try before, after): {not_rerun}"
    assert_unchanged_since(stack, seen.snapshot_at_clear, "the cleared and rerun run")
    # 3. The run under the outage retried; the file dropped during the outage is in the tables once.
    tis = task_instances(stack, seen.retried_run)
    retried = {t: ti["try_number"] for t, ti in tis.items() if ti["try_number"] >= 2}
    assert retried, f"no task of {seen.retried_run} was retried\n{describe(stack, [seen.retried_run])}"
    assert LOAD_TASK in retried, f"the outage hit {sorted(retried)} of {seen.retried_run}, not {LOAD_TASK}"
    assert_loaded_once(stack, seen.during_outage)
    report = load_report(stack, seen.retried_run)
    stack.findings.append(f"load report of the retried run: {report}")
    assert report["files_loaded"] >= 1, f"the retried load of {seen.retried_run} loaded nothing: {report}"
    assert_no_duplicates(stack)
    tries = f"/dags/{DAG}/dagRuns/{seen.retried_run}/taskInstances/{LOAD_TASK}/tries"
    first_try = api(stack, "GET", tries)["task_instances"][0]
    stack.timings[f"{LOAD_TASK} try 1 (Snowflake down)"] = first_try["duration"] or 0.0


# --- the health page ----------------------------------------------------------------------------------


def settle(stack: Stack, s3: Any) -> None:
    """Stop the stream (generator, then the local Firehose, which writes what it buffered) and wait until
    every delivered file is loaded and transformed: the tables stop changing (later runs find nothing new)."""
    from mobile_events_elt.warehouse.pipeline import landing

    for name in ("generator", "firehose"):
        processes.stop(name, stack.run_dir)
    trigger(stack)  # picks up the Firehose's last file even if its notification was missed
    where = landing()
    state: dict[str, Any] = {}

    def settled() -> bool:
        delivered = {
            o["Key"]
            for prefix in (where.prefix, where.error_prefix)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        }
        audited = {name for (name,) in query(stack, "select file_name from raw.load_audit")}
        untransformed = "select count(*) from raw.load_audit where status = 'LOADED' and transformed_at is null"
        state.update(not_audited=sorted(delivered - audited)[:5], untransformed=query(stack, untransformed)[0][0])
        return not state["not_audited"] and state["untransformed"] == 0

    poll("the stream to settle", settled, RUN_TIMEOUT, 2.0, lambda: f"{state}\n{describe(stack, [])}")


def health_expected(stack: Stack, since: str, until: str) -> dict[str, int]:
    """The page's figures, from direct queries of the tables for the page's own window [since, until)."""

    def count(select: str, table: str, column: str, where: str = "true") -> int:
        sql = f"select {select} from {table} where {where} and {column} >= %(since)s and {column} < %(until)s"
        return int(query(stack, sql, {"since": since, "until": until})[0][0])

    return {
        "conservation.delivered": count("count(distinct event_key)", "raw.events_raw", "loaded_at")
        + count("count(*)", "raw.rejected_events", "rejected_at", "rejected_in <> 'transform'"),
        "conservation.in_tables": count("count(*)", "analytics.orders", "loaded_at"),
        "conservation.quarantined": count("count(*)", "raw.rejected_events", "rejected_at"),
        "conservation.waiting": 0,
        "conservation.lost": 0,
        "conservation.duplicated": count("count(*) - count(distinct order_id)", "analytics.orders", "loaded_at"),
        "volume.events": count("count(*)", VOLUME_EVENTS, "orders.loaded_at"),
        "volume.purchases": count(
            "count(*)", "analytics.orders", "loaded_at", "order_type = 'PURCHASE' and status = 'COMPLETED'"
        ),
        "files.loaded": count("count(*)", "raw.load_audit", "loaded_at", "status = 'LOADED'"),
        "files.failed": int(query(stack, "select count(*) from raw.load_audit where status = 'FAILED'")[0][0]),
        "files.waiting": 0,
        "quarantine.total": count("count(*)", "raw.rejected_events", "rejected_at"),
    }


def check_health_page(stack: Stack, s3: Any, tmp_path: Path) -> None:
    from tests.support.health_page import SCREENSHOTS, browse, number, read_page

    settle(stack, s3)
    base = f"http://127.0.0.1:{stack.airflow_port}"
    page = read_page(browse(f"{base}/pipeline-health/?window=day", SCREENSHOTS / "health-stack.png"))
    assert page.title == "Pipeline health" and page.charts == 3 and page.chart_marks > 0, page.metrics
    since, until = page.attributes["data-since"], page.attributes["data-as-of"]
    expected = health_expected(stack, since.replace("T", " "), until.replace("T", " "))
    shown = {name: number(page, name) for name in expected}
    assert shown == expected, f"the page (left) and the tables (right) differ: {shown} != {expected}"
    assert expected["conservation.in_tables"] > 0, "the stack loaded nothing to show"
    newest = query(stack, "select max(loaded_at) from raw.events_raw")[0][0]
    assert page.metrics["freshness.newest_loaded_at"] == f"{newest:%Y-%m-%d %H:%M:%S} UTC"
    drift_view = "select count(*) from information_schema.views where table_name = 'VALUE_DRIFT'"
    if query(stack, drift_view)[0][0]:
        new_values = (
            "select count(*) from analytics.value_drift where first_loaded_at >= %(s)s and first_loaded_at < %(u)s"
        )
        drifted = query(stack, new_values, {"s": since.replace("T", " "), "u": until.replace("T", " ")})[0][0]
        assert page.attributes["data-drift"] == str(min(drifted, 50)), (page.attributes, drifted)
    else:
        assert page.attributes["data-drift"] == "not available"
    stack.findings.append(f"health page: {shown}, drift {page.attributes['data-drift']}")

    # The UI's navigation is built from GET /api/v2/plugins: the external view must be there.
    plugins = api(stack, "GET", "/plugins")["plugins"]
    views = [v for p in plugins for v in p["external_views"]]
    assert [v["name"] for v in views] == ["Pipeline health"], plugins
    browse(f"{base}/plugin/{views[0]['url_route']}", SCREENSHOTS / "airflow-ui-pipeline-health.png", height=1000)
    home = browse(f"{base}/", SCREENSHOTS / "airflow-ui-nav.png", height=1000)
    assert "Pipeline health" in home, "the UI's side bar does not list Pipeline health"

    # make report: the same figures from a plain shell, through the stack's environment.
    out = tmp_path / "report"
    argv = [
        sys.executable,
        "-m",
        "mobile_events_elt.local_stack",
        "run",
        "--",
        sys.executable,
        "-m",
        "mobile_events_elt.warehouse",
        "report",
        "--out",
    ]
    made = subprocess.run([*argv, str(out)], env=stack.env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    static = read_page((out / "index.html").read_text())
    assert {name: number(static, name) for name in expected} == expected


def assert_stack_up(stack: Stack, up: subprocess.CompletedProcess) -> None:
    assert up.returncode == 0, up.stdout + up.stderr
    assert len(stack.pids) == 8  # 2 emulators, 4 Airflow components, Firehose delivery, generator
    assert api(stack, "GET", f"/dags/{DAG}")["is_paused"] is False


def assert_stack_down(stack: Stack, down: subprocess.CompletedProcess) -> None:
    assert down.returncode == 0, down.stdout + down.stderr
    assert list(stack.run_dir.glob("*.pid")) == []
    assert not any(is_listening(p) for p in stack.ports.values())
    assert not any(processes.alive(p) for p in stack.pids)
    for pid in stack.pids:  # nor any child they started (each leads its own process group)
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def test_make_up_keeps_events_exactly_once_through_retries_clears_and_double_triggers(tmp_path: Path) -> None:
    stack = new_stack(tmp_path)
    started = time.monotonic()
    up = stack.command("up")
    stack.pids = [int(p.read_text()) for p in stack.run_dir.glob("*.pid")]
    stack.timings["up"] = time.monotonic() - started
    try:
        assert_stack_up(stack, up)
        s3 = s3_client(stack)
        seen = Scenarios()
        stack.clock = time.monotonic()
        start_double_trigger(stack, s3, seen)
        start_clear_and_rerun(stack, seen)
        fail_snowflake_under_a_run(stack, s3, seen)
        wait_for_success(stack, [*seen.double, seen.retried_run])
        stack.mark("all runs succeeded")
        assert_scenarios(stack, seen)
        check_health_page(stack, s3, tmp_path)
        stack.mark("health page checked")
    finally:
        stopping = time.monotonic()
        down = stack.command("down")
        stack.timings["down"] = time.monotonic() - stopping
        stack.findings.append(f"down: {down.stdout.strip()} {down.stderr.strip()}".strip())
        print("timings: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in stack.timings.items()))
        print("\n".join(stack.findings))
    assert_stack_down(stack, down)
