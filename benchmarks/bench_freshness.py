"""Freshness: seconds from an event's creation to its rows in ANALYTICS.EVENTS, on the whole local stack.

For each trigger mode it starts the long-running stack (`mobile-events-stack up`, in a state folder
and on ports of its own), sends tagged events at a steady rate for --minutes while the stack's own
generator streams too, polls Snowflake for their rows, and prints p50 / p95 / max. Modes:
- events: the ELT DAG runs when S3's ObjectCreated notification reaches SQS (asset watcher), with the
  cron schedule as a sweep, and a run takes the files that land while it works in further passes
  (`ELT_CATCH_UP_SECONDS`);
- schedule: the cron schedule alone (every minute): the baseline.
Then it stops the stack by PID. Prints measured figures only; asserts nothing about time.

For the p50 and the p95 event of each mode (and on average over all events) it prints where the seconds
went, stage by stage: the Firehose buffer (sent -> the S3 object's LastModified, which S3 keeps to the
second), S3 notification -> SQS -> watcher -> DAG run queued (which waits for the run before it to
finish), queued -> task start (scheduler, process start), the task until this file was committed (DAG
parse, imports, S3 listing, login, PUT + COPY; audit ``loaded_at``), the rest of the load, each model
until ``ANALYTICS.EVENTS`` (from the task's per-model seconds), and the benchmark's 1 s poll. Stage
boundaries come from the stack itself: S3, Airflow's REST API (runs, task instances, the task's XCom)
and ``RAW.LOAD_AUDIT``; a boundary that comes before the one preceding it counts as zero. Then the mean
length of the runs and of their phases (load, transform, reports, summed over a run's passes). An event loaded
by a later pass of a run gets three stages only (buffer, until its file committed, until its rows were seen):
the run's XCom sums its passes.

Usage: python benchmarks/bench_freshness.py [--minutes 5] [--rate 2] [--modes events,schedule]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mobile_events_elt.local_stack.environment import EMULATOR_AWS_CREDENTIALS, snowflake_login_secret  # noqa: E402
from mobile_events_elt.local_stack.ports import free_port  # noqa: E402

TASK = "load_transform_check"  # dags/mobile_events_elt_dag.py: its XCom holds the seconds of each phase and model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(mode: str, minutes: float, rate: float, tail_seconds: float) -> dict[str, float]:
    ports = {"AWS_EMULATOR_PORT": free_port(), "SNOWFLAKE_EMULATOR_PORT": free_port(), "AIRFLOW_PORT": free_port()}
    state = Path(tempfile.mkdtemp(prefix=f"bench-freshness-{mode}-"))
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "LOCAL_STACK_STATE": str(state), "ELT_TRIGGER": mode}
    stack = [sys.executable, "-m", "mobile_events_elt.local_stack"]
    print(f"\n[{mode}] starting the stack ...", flush=True)
    up = subprocess.run([*stack, "up"], env=env, capture_output=True, text=True, timeout=600)
    if up.returncode:
        print(up.stdout + up.stderr)
        subprocess.run([*stack, "down"], env=env, timeout=300)
        raise SystemExit(f"[{mode}] make up failed")
    os.environ.update(EMULATOR_AWS_CREDENTIALS, AWS_ENDPOINT_URL=f"http://127.0.0.1:{ports['AWS_EMULATOR_PORT']}")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        sf_password = snowflake_login_secret(state / "snowflake")
        result, conn = _send_and_watch(mode, ports["SNOWFLAKE_EMULATOR_PORT"], sf_password, minutes, rate, tail_seconds)
        try:
            result["stages"], runs = breakdown(conn, ports["AIRFLOW_PORT"], result)
            print_breakdown(mode, result)
            print_runs(mode, runs)
        except Exception as exc:  # the headline figures above stand without the breakdown
            print(f"[{mode}] no stage breakdown: {type(exc).__name__}: {exc}")
        finally:
            conn.close()
        return result
    finally:
        subprocess.run([*stack, "down"], env=env, capture_output=True, timeout=300)


def _send_and_watch(
    mode: str, sf_port: int, sf_password: str, minutes: float, rate: float, tail_seconds: float
) -> tuple[dict[str, Any], Any]:
    import itertools

    import snowflake.connector

    from mobile_events_elt import config
    from mobile_events_elt.data_generation.generator import EventGenerator
    from mobile_events_elt.data_generation.producer import KinesisProducer

    tag = f"fresh-{uuid.uuid4().hex[:8]}"
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    done_sending = threading.Event()

    def send() -> None:
        try:
            producer = KinesisProducer(config.load("aws")["stream"]["name"], linger_seconds=0.0)
            events = iter(EventGenerator(None, seed=7, users=1000))
            started = time.monotonic()
            deadline = started + minutes * 60
            for i in itertools.count():
                due = started + i / rate
                if due > deadline:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                line, user_id, _ = next(events)
                record = json.loads(line)
                record["EVENT_ID"] = f"{tag}-{i}"
                sent[record["EVENT_ID"]] = time.time()
                producer.put(json.dumps(record), user_id)
                producer.flush()
            producer.close()
        finally:
            done_sending.set()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    conn = snowflake.connector.connect(
        host="127.0.0.1", port=sf_port, protocol="http", account="local", user="local", password=sf_password,
        database="MOBILE_EVENTS", network_timeout=60,
    )  # fmt: skip
    query = "select distinct order_id from analytics.events where order_id like %(tag)s"
    give_up = None
    while True:
        now = time.time()
        for (order_id,) in conn.cursor().execute(query, {"tag": f"{tag}-%"}).fetchall():
            seen.setdefault(order_id, now)
        if done_sending.is_set():
            give_up = give_up or time.monotonic() + tail_seconds
            if len(seen) >= len(sent) or time.monotonic() > give_up:
                break
        time.sleep(1.0)
    lags = [seen[k] - sent[k] for k in seen if k in sent]
    result: dict[str, Any] = {
        "tag": tag,
        "sent_at": sent,
        "seen_at": seen,
        "sent": len(sent),
        "seen": len(lags),
        "p50": percentile(lags, 0.50),
        "p95": percentile(lags, 0.95),
        "max": max(lags),
        "mean": statistics.fmean(lags),
    }
    print(
        f"[{mode}] {result['seen']}/{result['sent']} events seen; creation -> ANALYTICS.EVENTS: "
        f"p50 {result['p50']:.1f}s, p95 {result['p95']:.1f}s, max {result['max']:.1f}s",
        flush=True,
    )
    return result, conn


def _api(airflow_port: int, path: str) -> Any:
    import urllib.request

    url = f"http://127.0.0.1:{airflow_port}/api/v2{path}"
    # A loopback URL built from our own port, never user input.
    with urllib.request.urlopen(url, timeout=30) as response:  # nosec B310
        return json.loads(response.read())


def _epoch(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def _runs(airflow_port: int, since: float) -> list[dict[str, Any]]:
    """Every ELT run started after `since`, with its task instances and the per-model seconds of its XCom."""
    dag = "/dags/mobile_events_elt/dagRuns"
    found: list[dict[str, Any]] = []
    while True:  # the API caps a page at 100 runs
        page = _api(airflow_port, f"{dag}?limit=100&offset={len(found)}")["dag_runs"]
        found += page
        if len(page) < 100:
            break
    runs = []
    for run in found:
        started = _epoch(run.get("start_date"))
        if started is None or started < since:
            continue
        tis = _api(airflow_port, f"{dag}/{run['dag_run_id']}/taskInstances")["task_instances"]
        run["tasks"] = {ti["task_id"]: (_epoch(ti.get("start_date")), _epoch(ti.get("end_date"))) for ti in tis}
        try:
            path = f"{dag}/{run['dag_run_id']}/taskInstances/{TASK}/xcomEntries/return_value"
            value = _api(airflow_port, path)["value"]
            value = json.loads(value) if isinstance(value, str) else value
            run["models"] = value.get("models") if isinstance(value, dict) else None
            run["phases"] = value.get("seconds") if isinstance(value, dict) else None
            run["passes"] = value.get("passes", 1) if isinstance(value, dict) else 1
        except OSError:
            run["models"] = None  # skipped or not finished
        runs.append(run)
    return runs


def breakdown(
    conn: Any, airflow_port: int, result: dict[str, Any]
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """Per event: seconds spent in each stage from creation to its rows in ANALYTICS.EVENTS; and the runs."""
    import boto3

    from mobile_events_elt.config.aws_settings import load_settings as load_aws_settings

    sent, seen = result["sent_at"], result["seen_at"]
    rows = (
        conn.cursor()
        .execute(
            "select raw_events.event_key, raw_events.file_name, audit.loaded_at "
            "from raw.events_raw as raw_events inner join raw.load_audit as audit "
            "on raw_events.load_id = audit.load_id where raw_events.event_key like %(tag)s",
            {"tag": f"{result['tag']}-%"},
        )
        .fetchall()
    )
    aws = load_aws_settings()
    s3 = boto3.client("s3")
    landed: dict[str, float] = {}
    for key in {file_name for _, file_name, _ in rows}:
        landed[key] = s3.head_object(Bucket=aws.bucket, Key=key)["LastModified"].timestamp()
    runs = _runs(airflow_port, min(sent.values()) - 60)
    stages: dict[str, dict[str, float]] = {}
    for event_key, file_name, loaded_at in rows:
        if event_key not in seen or event_key not in sent or event_key in stages:
            continue
        loaded = loaded_at.replace(tzinfo=UTC).timestamp()
        run = next(
            (r for r in runs if None not in r["tasks"].get(TASK, (None, None))
             and r["tasks"][TASK][0] <= loaded <= r["tasks"][TASK][1]),
            None,
        )  # fmt: skip
        if run is None or not run.get("models"):
            continue
        task_start, task_end = run["tasks"][TASK]
        models = run["models"]
        if run.get("passes", 1) > 1:
            # A run of several passes sums its passes' seconds: only the stack's own boundaries are known.
            marks = [
                ("Firehose buffer (sent -> S3 object)", landed[file_name]),
                ("S3 object -> file committed (a later pass of a run)", loaded),
                ("file committed -> rows seen (build, poll)", seen[event_key]),
            ]
            stages[event_key] = _stages(sent[event_key], marks)
            continue
        # The reports and the marker come after the transform: it began that long before the task ended. Its
        # seconds outside the models (dbt's start-up and tests, the claim and finish) are counted before them.
        phases = run.get("phases") or {}
        in_models = sum(m["seconds"] for m in models.values())
        at = task_end - phases.get("reports", 0.0) - phases.get("transform", in_models)
        marks = [
            ("Firehose buffer (sent -> S3 object)", landed[file_name]),
            ("S3 notification -> SQS -> watcher -> run queued", _epoch(run.get("queued_at")) or landed[file_name]),
            ("run queued -> task start", task_start),
            ("task start -> this file committed", loaded),
            ("rest of the load", at),
        ]
        at += max(phases.get("transform", in_models) - in_models, 0.0)
        marks.append(("transform outside the models (dbt start-up, tests)", at))
        for step, figures in models.items():
            at += figures["seconds"]
            marks.append((f"model {step}", at))
            if step == "events":  # the model that writes ANALYTICS.EVENTS
                break
        marks.append(("rows visible -> seen by the 1 s poll", seen[event_key]))
        stages[event_key] = _stages(sent[event_key], marks)
    return stages, runs


def _stages(sent: float, marks: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds between consecutive boundaries, from the event's creation; one out of order counts as zero."""
    previous, per_stage = sent, {}
    for name, moment in marks:
        moment = max(moment, previous)
        per_stage[name] = moment - previous
        previous = moment
    return per_stage


def print_runs(mode: str, runs: list[dict[str, Any]]) -> None:
    """How long the runs that did work took, task by task: the next run waits for all of it."""
    worked = [r for r in runs if r.get("models") and r.get("end_date") and r.get("queued_at")]
    if not worked:
        return
    spans = {
        "queued -> start": [_epoch(r["start_date"]) - _epoch(r["queued_at"]) for r in worked],
        TASK: [r["tasks"][TASK][1] - r["tasks"][TASK][0] for r in worked],
        **{
            f"of which {phase}": [r["phases"][phase] for r in worked if r.get("phases")]
            for phase in ("load", "transform", "reports")
        },
        "whole run": [_epoch(r["end_date"]) - _epoch(r["start_date"]) for r in worked],
    }
    spans["passes"] = [r.get("passes", 1) for r in worked]
    idle = sum(1 for r in runs if not r.get("models"))
    figures = ", ".join(
        f"{name} {statistics.fmean(v):.1f}{'' if name == 'passes' else 's'}" for name, v in spans.items() if v
    )
    print(f"[{mode}] {len(worked)} runs with work, {idle} without; mean: {figures}", flush=True)


def print_breakdown(mode: str, result: dict[str, Any]) -> None:
    stages = result["stages"]
    if not stages:
        print(f"[{mode}] no stage breakdown: no event could be matched to a run")
        return
    lag = {k: sum(v.values()) for k, v in stages.items()}
    ordered = sorted(lag, key=lag.get)
    picks = {
        "p50 event": ordered[min(len(ordered) - 1, round(0.50 * (len(ordered) - 1)))],
        "p95 event": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
    }
    names = list(dict.fromkeys(name for v in stages.values() for name in v))
    mean = {name: statistics.fmean(v.get(name, 0.0) for v in stages.values()) for name in names}
    print(f"[{mode}] where the seconds go ({len(stages)} events matched to their run):")
    print(f"  {'stage':<52} {'p50 event':>10} {'p95 event':>10} {'mean':>8}")
    for name in names:
        cells = [stages[key].get(name, 0.0) for key in picks.values()]
        print(f"  {name:<52} {cells[0]:9.1f}s {cells[1]:9.1f}s {mean[name]:7.1f}s")
    totals = [lag[key] for key in picks.values()]
    print(f"  {'total':<52} {totals[0]:9.1f}s {totals[1]:9.1f}s {statistics.fmean(lag.values()):7.1f}s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to send tagged events (default 5)")
    parser.add_argument("--rate", type=float, default=2.0, help="tagged events per second (default 2)")
    parser.add_argument("--tail", type=float, default=180.0, help="seconds to wait for the last rows (default 180)")
    parser.add_argument("--modes", default="events,schedule", help="comma-separated: events, schedule")
    args = parser.parse_args()
    results = {mode: measure(mode, args.minutes, args.rate, args.tail) for mode in args.modes.split(",")}
    print(f"\nfreshness over {args.minutes:g} minutes per mode at {args.rate:g} tagged events/s:")
    for mode, r in results.items():
        print(
            f"  {mode:<9} p50 {r['p50']:6.1f}s  p95 {r['p95']:6.1f}s  max {r['max']:6.1f}s  ({r['seen']}/{r['sent']})"
        )
    if {"events", "schedule"} <= results.keys():
        ratio = results["schedule"]["p95"] / results["events"]["p95"]
        print(f"  p95 schedule / event-driven: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
