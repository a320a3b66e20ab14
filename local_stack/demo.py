"""`make demo`: the whole pipeline once, on a fresh local stack, then a reconciliation.

Starts the emulators, provisions AWS and Snowflake, sends events from the generator into Kinesis,
delivers them to S3 as Firehose would, runs the ELT DAG through Airflow (`airflow dags test`), prints
rows per table, quarantine, timings per stage and a `conservation:` line, writes the pipeline health
report (static HTML, .local/demo/report/index.html) and dbt's docs site (.local/dbt-docs/static_index.html)
and prints their paths, and stops everything it started. Exit status 0 only when nothing was lost or duplicated.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mobile_events_elt.local_stack import stack
from mobile_events_elt.local_stack.environment import STATE, local_env
from mobile_events_elt.local_stack.private_state import private_folder
from mobile_events_elt.local_stack.steps import StageFailed, airflow_cli, run
from mobile_events_elt.warehouse.dbt_runner import DOCS_PAGE, docs_dir

DEMO_STATE = STATE / "demo"
DAG_ID = "mobile_events_elt"


class Timer:
    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        print(f"==> {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.stages.append((name, time.monotonic() - started))
            print(f"    {name}: {self.stages[-1][1]:.1f}s", flush=True)


def reconcile(report: dict[str, int], counts: dict[str, int], distinct_orders: int) -> tuple[int, int, str]:
    """Compare what the generator sent with what the warehouse holds; return (lost, duplicated, line)."""
    sent = int(report["unique_events"]) + int(report.get("malformed", 0))
    in_tables = counts["analytics.orders"]
    quarantined = counts["raw.rejected_events"]
    # Rows for the same order, plus events the warehouse holds beyond what was sent.
    duplicated = (in_tables - distinct_orders) + max(0, distinct_orders + quarantined - sent)
    lost = max(0, sent - distinct_orders - quarantined)
    line = (
        f"conservation: sent={sent} in_tables={in_tables} quarantined={quarantined} "
        f"lost={lost} duplicated={duplicated} -> {'OK' if lost == 0 and duplicated == 0 else 'MISMATCH'}"
    )
    return lost, duplicated, line


def demo(events: int, seed: int = 42, fault_rate: float = 0.0) -> int:
    private_folder(STATE)  # what the demo writes under it is the owner's alone
    shutil.rmtree(DEMO_STATE, ignore_errors=True)
    run_dir = DEMO_STATE / "run"
    logs = DEMO_STATE / "logs"
    logs.mkdir(parents=True)
    env = local_env(DEMO_STATE / "airflow")
    env["FIREHOSE_STATE_DIR"] = str(DEMO_STATE / "firehose")  # a fresh stream deserves fresh checkpoints
    py = sys.executable
    timer = Timer()
    total_started = time.monotonic()
    try:
        with timer.stage("start emulators (AWS, Snowflake)"):
            stack.start_emulators(run_dir, DEMO_STATE / "snowflake", env)
        with timer.stage("provision AWS (bucket, stream, Firehose, ...)"):
            run([py, "-m", "mobile_events_elt.aws_infrastructure", "up"], env, logs / "aws_infrastructure.log")
        with timer.stage("provision Snowflake (database, schemas, tables, stage)"):
            run([py, "-m", "mobile_events_elt.warehouse", "setup"], env, logs / "warehouse_setup.log")
        report_path = DEMO_STATE / "generator-report.json"
        with timer.stage(f"generate {events} events into Kinesis"):
            generate = ["--events", str(events), "--sink", "kinesis", "--seed", str(seed)]
            if fault_rate:
                for fault in ("--duplicate-rate", "--late-rate", "--malformed-rate"):
                    generate += [fault, str(fault_rate)]
            generate.append("--report-json")
            run(
                [py, "-m", "mobile_events_elt.data_generation", *generate, str(report_path)],
                env,
                logs / "generator.log",
            )
        with timer.stage("deliver Kinesis -> S3 (local Firehose)"):
            run([py, "-m", "mobile_events_elt.local_stack", "firehose", "--once"], env, logs / "firehose.log")
        with timer.stage("prepare Airflow (metadata database)"):
            run([airflow_cli(), "db", "migrate"], env, logs / "airflow.log")
        with timer.stage(f"run DAG {DAG_ID} (load, transform, check)"):
            run([airflow_cli(), "dags", "test", DAG_ID], env, logs / "airflow.log")
        counts, distinct_orders = warehouse_counts(env)
        with timer.stage("write dbt's docs site (models, tests, lineage, catalog)"):
            run([py, "-m", "mobile_events_elt.warehouse", "docs", "--out", str(docs_dir())], env, logs / "dbt_docs.log")
        with timer.stage("write the pipeline health report"):
            report_index = write_report()
    except (StageFailed, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stopped = stack.stop_all(run_dir)
        print(f"==> stopped {', '.join(stopped) or 'nothing'}")
    report = json.loads(report_path.read_text())
    lost, duplicated, line = reconcile(report, counts, distinct_orders)
    _print_summary(counts, report, timer, time.monotonic() - total_started)
    print(f"pipeline health report: {report_index}")
    print(f"dbt docs (models, tests, lineage): {docs_dir() / DOCS_PAGE}")
    print(line)
    return 0 if lost == 0 and duplicated == 0 else 1


def warehouse_counts(env: dict[str, str]) -> tuple[dict[str, int], int]:
    """Rows per table and distinct orders, read through the stack's own Snowflake connection."""
    from mobile_events_elt.warehouse import pipeline, summary

    os.environ.update(env)
    logging.disable(logging.INFO)  # the summary says what matters; keep the connector's chatter out
    with pipeline.snowflake() as conn:
        counts = summary.table_counts(conn)
        distinct = conn.cursor().execute("select count(distinct order_id) as n from analytics.orders").fetchone()[0]
    return counts, int(distinct)


def write_report() -> Path:
    """The health report of what the demo loaded, read while the stack still runs (warehouse_counts set the
    stack's environment); a section it could not read is named here and on the page."""
    from mobile_events_elt.warehouse import report

    index, problems = report.write(DEMO_STATE / "report")
    for problem in problems:
        print(f"    health report: {problem}", file=sys.stderr)
    return index


def _print_summary(counts: dict[str, int], report: dict[str, int], timer: Timer, total: float) -> None:
    print("\nrows per table:")
    for table, n in counts.items():
        print(f"  {table:<28} {n:>10,}")
    print(
        f"generator: sent={report.get('sent')} unique_events={report.get('unique_events')} "
        f"duplicates={report.get('duplicates', 0)} malformed={report.get('malformed', 0)}"
    )
    print(f"events quarantined: {counts['raw.rejected_events']}")
    print("timings:")
    for name, seconds in timer.stages:
        print(f"  {name:<56} {seconds:>7.1f}s")
    print(f"  {'total':<56} {total:>7.1f}s")
