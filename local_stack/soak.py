"""`make soak`: a long run through the whole local stack with faults injected, then a reconciliation.

The generator streams --events into Kinesis with duplicates, late and malformed records while the local
Firehose delivery runs continuously. Faults land at random points of the stream's progress (read from
the generator's own progress lines, so they spread over the whole run rather than bunching at its
start): the local Firehose is SIGKILLed and restarted --kills times, the AWS emulator is SIGKILLed and
restarted --aws-restarts times (its journal brings the stream and the bucket back; the producer retries
or spools meanwhile, and the spool is replayed afterwards), and one ELT run loads while events still
flow. Then three ELT runs: one SIGKILLed mid-way, one whose Snowflake emulator is SIGKILLed and
restarted under it (the task retries), and one more to completion. Everything sent is then reconciled
with what was delivered to S3, loaded, transformed and quarantined: sent, delivered, loaded,
quarantined, duplicated, lost. Exit status 0 only when lost and duplicated are both 0.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from mobile_events_elt.local_stack import processes, stack
from mobile_events_elt.local_stack.demo import Timer, reconcile, warehouse_counts
from mobile_events_elt.local_stack.environment import STATE, local_env
from mobile_events_elt.local_stack.private_state import private_folder
from mobile_events_elt.local_stack.steps import StageFailed, airflow_cli, run

SOAK_STATE = STATE / "soak"
DAG_ID = "mobile_events_elt"
PROGRESS = re.compile(r"progress: [\d,]+ records \((\d+)%\)")
OUTAGE_SECONDS = 3.0  # how long the AWS emulator stays down before it is restarted
# The connector gives up a login to a dead server in about a second, so the task in flight fails, and its
# retries (2, 15 s apart) carry the run over an outage of up to about 30 s: this one needs them both.
SNOWFLAKE_OUTAGE_SECONDS = 20.0


class Soak:
    """One soak run's processes, fault log and timings."""

    def __init__(self, seed: int) -> None:
        self.run_dir, self.logs = SOAK_STATE / "run", SOAK_STATE / "logs"
        self.logs.mkdir(parents=True)
        self.env = local_env(SOAK_STATE / "airflow")
        self.env["FIREHOSE_STATE_DIR"] = str(SOAK_STATE / "firehose")
        self.rng = random.Random(seed)
        self.timer = Timer()
        self.faults: list[str] = []
        self.started = time.monotonic()
        self.deliver = [sys.executable, "-m", "mobile_events_elt.local_stack", "firehose"]

    def fault(self, text: str, at: float | None = None) -> None:
        self.faults.append(f"{text} at +{(at or time.monotonic()) - self.started:.0f}s")
        print(f"    fault: {self.faults[-1]}", flush=True)

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def kill(self, name: str) -> int:
        pid = self.pid(name)
        os.kill(pid, 9)
        processes.stop(name, self.run_dir)  # reaps the group and clears the PID file
        return pid

    def kill_firehose(self, progress: int) -> None:
        pid = self.kill("firehose")
        self.fault(f"SIGKILL local Firehose (pid {pid}) at {progress}% of the stream")
        processes.start("firehose", self.deliver, self.run_dir, env=self.env)

    def restart_aws(self, progress: int) -> None:
        pid = self.kill("aws")
        time.sleep(OUTAGE_SECONDS)
        restarted = time.monotonic()
        stack.start_emulator("aws", self.run_dir, SOAK_STATE / "snowflake", self.env)
        self.fault(
            f"SIGKILL AWS emulator (pid {pid}) at {progress}% of the stream, down {OUTAGE_SECONDS:.0f}s, "
            f"back with its journal replayed in {time.monotonic() - restarted:.0f}s"
        )

    def supervise_firehose(self) -> None:
        """Restart the delivery if it exited by itself (as a managed Firehose would carry on)."""
        if not processes.alive(self.pid("firehose")):
            processes.stop("firehose", self.run_dir)
            print("    the local Firehose exited by itself (see run/firehose.log); restarting it", flush=True)
            processes.start("firehose", self.deliver, self.run_dir, env=self.env)

    def elt(self, log_name: str) -> subprocess.Popen:
        with open(self.logs / log_name, "wb") as log:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(
                [airflow_cli(), "dags", "test", DAG_ID], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )


def generator_progress(log: Path) -> int:
    """The generator's last reported progress, in percent of --events (0 before its first line)."""
    if not log.exists():
        return 0
    found = PROGRESS.findall(log.read_text(errors="replace")[-2000:])
    return int(found[-1]) if found else 0


def merged(*reports: dict[str, int]) -> dict[str, int]:
    """Add up the generator's report and the spool replay's (numeric counts only)."""
    total: Counter[str] = Counter()
    for report in reports:
        total.update({k: v for k, v in report.items() if isinstance(v, int) and not isinstance(v, bool)})
    return dict(total)


def soak(events: int, fault_rate: float, kills: int, aws_restarts: int = 1, seed: int = 7) -> int:
    private_folder(STATE)  # what the soak writes under it is the owner's alone
    shutil.rmtree(SOAK_STATE, ignore_errors=True)
    s = Soak(seed)
    py = sys.executable
    report_path, spool = SOAK_STATE / "generator-report.json", SOAK_STATE / "spool.ndjson"
    replay_report = SOAK_STATE / "replay-report.json"
    try:
        with s.timer.stage("start emulators and provision"):
            stack.start_emulators(s.run_dir, SOAK_STATE / "snowflake", s.env)
            run([py, "-m", "mobile_events_elt.aws_infrastructure", "up"], s.env, s.logs / "provision.log")
            run([py, "-m", "mobile_events_elt.warehouse", "setup"], s.env, s.logs / "provision.log")
            run([airflow_cli(), "db", "migrate"], s.env, s.logs / "airflow.log")
        with s.timer.stage(f"stream {events:,} events with {kills} Firehose and {aws_restarts} AWS emulator kills"):
            processes.start("firehose", s.deliver, s.run_dir, env=s.env)
            argv = [
                py,
                "-m",
                "mobile_events_elt.data_generation",
                "--events",
                str(events),
                "--seed",
                str(seed),
                "--sink",
                "kinesis",
            ]
            for fault in ("--duplicate-rate", "--late-rate", "--malformed-rate"):
                argv += [fault, str(fault_rate)]
            argv += ["--spool", str(spool), "--report-json", str(report_path)]
            generator = processes.start("generator", argv, s.run_dir, env=s.env)
            plan = sorted(
                [(s.rng.randint(5, 95), "firehose") for _ in range(kills)]
                + [(s.rng.randint(20, 80), "aws") for _ in range(aws_restarts)]
                + [(50, "elt")]
            )
            print(f"    fault plan (% of the stream): {plan}", flush=True)
            midstream: subprocess.Popen | None = None
            while processes.alive(generator):
                time.sleep(1)
                progress = generator_progress(s.run_dir / "generator.log")
                while plan and progress >= plan[0][0] and processes.alive(generator):
                    _, what = plan.pop(0)
                    if what == "firehose":
                        s.kill_firehose(progress)
                    elif what == "aws":
                        s.restart_aws(progress)
                    else:
                        print(f"    an ELT run starts at {progress}% of the stream, while events flow", flush=True)
                        midstream = s.elt("airflow-midstream-run.log")
                s.supervise_firehose()
            processes.stop("firehose", s.run_dir)
            for point, what in plan:
                print(f"    not injected, the stream ended first: {what} at {point}%", flush=True)
            if not report_path.exists():
                raise StageFailed(f"the generator wrote no report; see {s.run_dir / 'generator.log'}")
            if spool.exists():
                spooled = sum(1 for _ in spool.open())
                print(f"    replaying {spooled:,} records the producer spooled during the outage", flush=True)
                replay = [py, "-m", "mobile_events_elt.data_generation", "replay-spool", str(spool)]
                run(
                    [*replay, "--spool", str(SOAK_STATE / "spool-again.ndjson"), "--report-json", str(replay_report)],
                    s.env,
                    s.logs / "replay-spool.log",
                )
            if midstream is not None:
                print(f"    the mid-stream ELT run exited with {midstream.wait()}", flush=True)
        with s.timer.stage("drain the stream to S3"):
            run([*s.deliver, "--once"], s.env, s.logs / "firehose-drain.log")
        with s.timer.stage("ELT runs: one SIGKILLed, one losing Snowflake, one to completion"):
            victim = s.elt("airflow-killed-run.log")
            time.sleep(s.rng.uniform(8, 20))
            if victim.poll() is None:
                victim.kill()
                s.fault("SIGKILL of an ELT DAG run mid-way")
            victim.wait()
            survivor = s.elt("airflow-snowflake-killed-run.log")
            time.sleep(s.rng.uniform(8, 20))
            if survivor.poll() is None:
                killed_at, pid = time.monotonic(), s.kill("snowflake")
                time.sleep(SNOWFLAKE_OUTAGE_SECONDS)
                stack.start_emulator("snowflake", s.run_dir, SOAK_STATE / "snowflake", s.env)
                status = survivor.wait()
                log = (s.logs / "airflow-snowflake-killed-run.log").read_text(errors="replace")
                s.fault(
                    f"SIGKILL Snowflake emulator (pid {pid}) during an ELT run, restarted "
                    f"{SNOWFLAKE_OUTAGE_SECONDS:.0f}s later; the run ended with exit {status} after "
                    f"{log.count('new_state=up_for_retry')} task retries",
                    at=killed_at,
                )
            survivor.wait()
            run([airflow_cli(), "dags", "test", DAG_ID], s.env, s.logs / "airflow.log")
        counts, distinct_orders = warehouse_counts(s.env)
        delivered = _delivered_records(s.env)
    except (StageFailed, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stopped = stack.stop_all(s.run_dir)
        print(f"==> stopped {', '.join(stopped) or 'nothing'}")
    generated = json.loads(report_path.read_text())
    report = merged(generated, *([json.loads(replay_report.read_text())] if replay_report.exists() else []))
    lost, duplicated, line = reconcile(report, counts, distinct_orders)
    print("\nreconciliation:")
    print(
        f"  sent to Kinesis         {report['sent']:>12,} (unique events {report['unique_events']:,}, duplicates "
        f"{report['duplicates']:,}, malformed {report['malformed']:,}, late {report['late']:,}; "
        f"{generated.get('spooled', 0):,} spooled in the outage and replayed)"
    )
    print(f"  delivered to S3         {delivered:>12,} records (Firehose is at-least-once)")
    print(f"  loaded (raw records)    {counts['raw.events_raw']:>12,}")
    print(f"  in analytics.orders     {counts['analytics.orders']:>12,}")
    print(f"  quarantined             {counts['raw.rejected_events']:>12,}")
    print(f"  duplicated              {duplicated:>12,}")
    print(f"  lost                    {lost:>12,}")
    print(f"faults injected ({len(s.faults)}):")
    for fault in s.faults:
        print(f"  {fault}")
    print("timings:")
    for name, seconds in s.timer.stages:
        print(f"  {name:<72} {seconds:>7.1f}s")
    print(f"  {'total':<72} {time.monotonic() - s.started:>7.1f}s")
    print(line)
    return 0 if lost == 0 and duplicated == 0 else 1


def _delivered_records(env: dict[str, str]) -> int:
    """Records in the objects the delivery wrote under the landing prefix (duplicates included)."""
    import boto3

    from mobile_events_elt.warehouse.pipeline import landing

    where = landing()
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=where.bucket, Key=obj["Key"])["Body"].read()
            text = gzip.decompress(body) if obj["Key"].endswith(".gz") else body
            total += sum(1 for line in text.splitlines() if line.strip())
    return total
