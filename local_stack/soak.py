"""`make soak`: a long run through the whole local stack with faults injected, then a reconciliation.

The generator streams --events into Kinesis with duplicates, late and malformed records; the local
Firehose delivery runs continuously and is killed (SIGKILL) and restarted --kills times while events
flow; the ELT DAG is killed mid-run once and run again. Then everything sent is reconciled with what
was delivered to S3, loaded, transformed and quarantined: sent, delivered, loaded, quarantined,
duplicated, lost. Exit status 0 only when lost and duplicated are both 0.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time

from local_stack import processes, stack
from local_stack.demo import Timer, reconcile, warehouse_counts
from local_stack.environment import STATE, local_env
from local_stack.steps import StageFailed, airflow_cli, run

SOAK_STATE = STATE / "soak"
DAG_ID = "mobile_events_elt"


def soak(events: int, fault_rate: float, kills: int, seed: int = 7) -> int:
    shutil.rmtree(SOAK_STATE, ignore_errors=True)
    run_dir, logs = SOAK_STATE / "run", SOAK_STATE / "logs"
    logs.mkdir(parents=True)
    env = local_env(SOAK_STATE / "airflow")
    env["FIREHOSE_STATE_DIR"] = str(SOAK_STATE / "firehose")
    py = sys.executable
    rng = random.Random(seed)
    timer = Timer()
    faults: list[str] = []
    report_path = SOAK_STATE / "generator-report.json"
    try:
        with timer.stage("start emulators and provision"):
            stack.start_emulators(run_dir, SOAK_STATE / "snowflake", env)
            run([py, "-m", "aws_infrastructure", "up"], env, logs / "provision.log")
            run([py, "-m", "warehouse", "setup"], env, logs / "provision.log")
            run([airflow_cli(), "db", "migrate"], env, logs / "airflow.log")
        with timer.stage(f"stream {events:,} events while the Firehose delivery is killed {kills}x"):
            deliver = [py, "-m", "aws_infrastructure", "deliver"]
            processes.start("firehose", deliver, run_dir, env=env)
            argv = [py, "-m", "data_generation", "--events", str(events), "--seed", str(seed), "--sink", "kinesis"]
            for fault in ("--duplicate-rate", "--late-rate", "--malformed-rate"):
                argv += [fault, str(fault_rate)]
            argv += ["--report-json", str(report_path), "-q"]
            generator = processes.start("generator", argv, run_dir, env=env)
            while processes.alive(generator):
                time.sleep(rng.uniform(3, 10))
                if len(faults) < kills and processes.alive(generator):
                    pid = int((run_dir / "firehose.pid").read_text())
                    os.kill(pid, 9)
                    faults.append(f"SIGKILL local Firehose (pid {pid}) at {time.strftime('%H:%M:%S')}")
                    print(f"    fault: {faults[-1]}", flush=True)
                    processes.stop("firehose", run_dir)
                    processes.start("firehose", deliver, run_dir, env=env)
            processes.stop("firehose", run_dir)
            if not report_path.exists():
                raise StageFailed(f"the generator wrote no report; see {run_dir / 'generator.log'}")
        with timer.stage("drain the stream to S3"):
            run([*deliver, "--once"], env, logs / "firehose-drain.log")
        with timer.stage("ELT run killed mid-way, then run again to completion"):
            victim = subprocess.Popen(
                [airflow_cli(), "dags", "test", DAG_ID],
                env=env,
                stdout=open(logs / "airflow-killed-run.log", "wb"),  # noqa: SIM115 (closed with the process)
                stderr=subprocess.STDOUT,
            )
            time.sleep(rng.uniform(8, 20))
            if victim.poll() is None:
                victim.kill()
                faults.append("SIGKILL of the ELT DAG run mid-way")
                print(f"    fault: {faults[-1]}", flush=True)
            victim.wait()
            run([airflow_cli(), "dags", "test", DAG_ID], env, logs / "airflow.log")
        counts, distinct_orders = warehouse_counts(env)
        delivered = _delivered_records(env)
    except (StageFailed, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stopped = stack.stop_all(run_dir)
        print(f"==> stopped {', '.join(stopped) or 'nothing'}")
    report = json.loads(report_path.read_text())
    lost, duplicated, line = reconcile(report, counts, distinct_orders)
    print("\nreconciliation:")
    print(
        f"  sent to Kinesis         {report['sent']:>12,} (unique events {report['unique_events']:,}, duplicates "
        f"{report['duplicates']:,}, malformed {report['malformed']:,}, late {report['late']:,})"
    )
    print(f"  delivered to S3         {delivered:>12,} records (Firehose is at-least-once)")
    print(f"  loaded (raw records)    {counts['raw.events_raw']:>12,}")
    print(f"  in analytics.orders     {counts['analytics.orders']:>12,}")
    print(f"  quarantined             {counts['raw.rejected_events']:>12,}")
    print(f"  duplicated              {duplicated:>12,}")
    print(f"  lost                    {lost:>12,}")
    print("faults injected: " + ("; ".join(faults) or "none"))
    print("timings:")
    for name, seconds in timer.stages:
        print(f"  {name:<64} {seconds:>7.1f}s")
    print(line)
    return 0 if lost == 0 and duplicated == 0 else 1


def _delivered_records(env: dict[str, str]) -> int:
    """Records in the objects the delivery wrote under the landing prefix (duplicates included)."""
    import boto3

    from warehouse.pipeline import landing

    where = landing()
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=where.bucket, Key=obj["Key"])["Body"].read()
            text = gzip.decompress(body) if obj["Key"].endswith(".gz") else body
            total += sum(1 for line in text.splitlines() if line.strip())
    return total
