"""History benchmark: what an ELT run and a health page reading cost with a year of history kept, and without.

Runs on its own local stack (the AWS and Snowflake emulators on free loopback ports, the Snowflake one with
its request log, both stopped by PID at the end) and prints measured figures; it asserts nothing about time.

The pipeline's own code does the work, through its own connections (Airflow connections from the
environment): ``pipeline.find_new_files`` (an idle run), then ``find_new_files`` +
``load_transform_check`` + ``remember_listing`` (a run with one new file of --events events: the ELT
task's body), and ``health.read`` (one health page reading). Each is measured on a bucket and database that
hold only a few recent files, then again after a synthetic history is put in place directly (objects
written to the AWS emulator, rows inserted in the warehouse, not sent through the pipeline): --objects
objects (default 50,000) in hour folders of the last year under landing/ and errors/, an audit row for
each, and --rows rows (default 5,000,000) in RAW.EVENTS_RAW, ANALYTICS.ORDERS and ANALYTICS.EVENTS each
(and a tenth as many users).

For each case it prints S3 requests (counted on the boto3 client the pipeline uses), Snowflake statements
(counted at the emulator), audit rows read into Python, and wall time (median of --repeat runs), with and
without history, and the ratio. Targets: S3 requests and audit rows read the same; wall time with history
<= 1.5x. The naive baseline in the same run lists both folders whole and reads the whole audit.

Usage: python benchmarks/bench_history.py [--objects N] [--rows N] [--events N] [--repeat N] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# emulator_stack (this folder) also puts the repository on sys.path for the imports after it.
from emulator_stack import emulators

from mobile_events_elt.local_stack.environment import SNOWFLAKE_SECRET_ENV


class Counted:
    """S3 requests made by the boto3 client the pipeline is given, and audit rows read into Python."""

    def __init__(self) -> None:
        import boto3

        self.s3 = boto3.client("s3")
        self.s3_requests = 0
        self.audit_rows = 0
        self.s3.meta.events.register("before-call.s3.*", self._request)

    def _request(self, **_: Any) -> None:
        self.s3_requests += 1


class Statements:
    """Logins and statements the Snowflake emulator received, from its request log."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.start = 0

    def mark(self) -> None:
        self.start = self._count()

    def since_mark(self) -> int:
        return self._count() - self.start

    def _count(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=50_000, help="objects of history in the bucket")
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of history in each big table")
    parser.add_argument("--events", type=int, default=200, help="events in the new file of case (b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case; the median is shown")
    parser.add_argument("--keep", action="store_true", help="keep the emulators' data folder (printed) to inspect")
    args = parser.parse_args()
    with emulators("bench-history-", keep=args.keep, request_log=True) as stack:
        return bench(args, stack.snowflake_port, stack.run_dir / "snowflake-requests.jsonl")


def bench(args: argparse.Namespace, sf_port: int, request_log: Path) -> int:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-history-airflow-"))
    connection = {"host": "127.0.0.1", "port": sf_port, "protocol": "http", "account": "bench", "network_timeout": 600}
    connection["dbt_target"] = "emulator"  # dbt's overrides for the emulator (sql/macros/emulator/)
    os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = json.dumps(
        {"conn_type": "snowflake", "login": "bench", "password": os.environ[SNOWFLAKE_SECRET_ENV], "extra": connection}
    )
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": os.environ["AWS_ENDPOINT_URL"]}}
    )

    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import health, pipeline, setup, sql_files

    counted = Counted()
    pipeline.s3_client = lambda aws_conn_id="aws_default": counted.s3  # the pipeline's S3 calls, counted
    original_run_file = sql_files.run_file

    def run_file(cursor: Any, relative: str, params: Any = None) -> list[tuple[Any, ...]]:
        rows = original_run_file(cursor, relative, params)
        if relative in ("load/known_files.sql", "load/unresolved_files.sql"):
            counted.audit_rows += len(rows)
        return rows

    sql_files.run_file = run_file
    statements = Statements(request_log)
    where = pipeline.landing()

    def elt_run() -> None:
        """The ELT task's body (dags/mobile_events_elt_dag.py), without Airflow around it."""
        listing = pipeline.find_new_files()
        if listing is None:
            return
        done = pipeline.load_transform_check(listing=listing)
        pipeline.remember_listing(done.pop("listing"), pipeline.needing_attention(done))

    def measure(label: str, prepare: Callable[[], None], work: Callable[[], Any]) -> dict[str, float]:
        figures = []
        for _ in range(args.repeat):
            prepare()
            counted.s3_requests = counted.audit_rows = 0
            statements.mark()
            started = time.monotonic()
            work()
            seconds = time.monotonic() - started
            figures.append((counted.s3_requests, statements.since_mark(), counted.audit_rows, seconds))
        s3, sql, audit, _ = figures[-1]
        wall = statistics.median(f[3] for f in figures)
        print(f"  {label:28s} S3 requests {s3:6,}  statements {sql:5,}  audit rows read {audit:7,}  wall {wall:7.2f} s")
        return {"s3": s3, "statements": sql, "audit": audit, "wall": wall}

    def new_file() -> None:
        land(counted.s3, where.bucket, datetime.now(UTC), generate(args.events))

    def naive() -> None:
        """What a run read before: both folders listed whole, the whole audit read."""
        from mobile_events_elt.warehouse import loader

        for folder in (where.prefix, where.error_prefix):
            loader.list_landed_files(counted.s3, where.bucket, folder)
        with pipeline.snowflake() as conn:
            counted.audit_rows += len(conn.cursor().execute("select file_name from raw.load_audit").fetchall())

    def phase(history: bool) -> dict[str, dict[str, float]]:
        """A new bucket and database, the history put in place (or not), the same two files primed, then the
        cases: the two phases differ only by the history."""
        from mobile_events_elt.warehouse import listing_marker

        reset = f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/reset"  # the AWS emulator's: empty, as new
        urllib.request.urlopen(urllib.request.Request(reset, method="POST"))  # noqa: S310  # nosec B310
        counted.s3.create_bucket(Bucket=where.bucket)
        os.environ["SNOWFLAKE_DATABASE"] = f"HISTORY_{'KEPT' if history else 'NONE'}"
        with pipeline.snowflake_without_database() as conn:
            setup.run_setup(conn, load_settings())
        now = datetime.now(UTC)
        # Firehose wrote an error object once, a month ago: the error folder has its type folder either way.
        land(counted.s3, where.bucket, now - timedelta(days=30), b"{}", folder="errors/processing-failed/")
        if history:
            started = time.monotonic()
            print(f"putting history in place: {args.objects:,} objects, their audit rows, {args.rows:,} rows ...")
            put_history(counted.s3, where.bucket, args.objects, args.rows)
            print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
        # The state of a pipeline that has run before: its marker's window is the last day.
        late = timedelta(hours=load_settings().late_delivery_hours)
        listing_marker.reset(counted.s3, where.bucket, since=now - late)
        for _ in range(2):
            new_file()
            elt_run()
        print(f"\n{'with' if history else 'without'} history:", flush=True)
        return {
            "(a) idle run": measure("(a) idle run", lambda: None, elt_run),
            "(b) one new file": measure(f"(b) one new file ({args.events} ev)", new_file, elt_run),
            "(c) health page reading": measure("(c) health page reading", lambda: None, lambda: health.read("day")),
            "naive: whole listing + audit": measure("naive: whole listing + audit", lambda: None, naive),
        }

    without = phase(history=False)
    with_history = phase(history=True)

    print(f"\n{'case':30s} {'S3 requests':>16s} {'audit rows':>16s} {'statements':>14s} {'wall time':>22s}")
    met = True
    for case, before in without.items():
        after = with_history[case]
        ratio = after["wall"] / before["wall"] if before["wall"] else float("nan")
        bounded = case.startswith("(")
        same = after["s3"] == before["s3"] and after["audit"] == before["audit"]
        verdict = ("same" if same else "DIFFERENT") if bounded else "grows"
        met = met and (not bounded or (same and ratio <= 1.5))
        print(
            f"{case:30s} {before['s3']:6,} -> {after['s3']:6,} {before['audit']:6,} -> {after['audit']:6,} "
            f"{before['statements']:5,} -> {after['statements']:5,} {before['wall']:6.2f} -> {after['wall']:6.2f} s "
            f"({ratio:4.2f}x) {verdict}"
        )
    print(f"\ntargets (S3 requests and audit rows the same, wall time <= 1.5x): {'met' if met else 'NOT MET'}")
    return 0


_EVENTS: Iterator[tuple[str, Any, Any]] | None = None


def generate(events: int) -> bytes:
    """The next ``events`` generated events (one stream for the whole run, so no two files share one)."""
    global _EVENTS
    from mobile_events_elt.data_generation.generator import EventGenerator

    _EVENTS = _EVENTS or iter(EventGenerator(None, seed=11, users=5_000))
    lines = [line for line, _, _ in itertools.islice(_EVENTS, events)]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def land(s3: Any, bucket: str, when: datetime, body: bytes, name: str | None = None, folder: str = "landing/") -> str:
    key = f"{folder}{when:year=%Y/month=%m/day=%d/hour=%H}/{name or f'bench-{time.monotonic_ns()}'}.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def put_history(s3: Any, bucket: str, objects: int, rows: int) -> None:
    """A year of history, older than any run's window: objects in hour folders from 3 to 365 days ago (a
    tenth under errors/), an audit row for each, and ``rows`` rows in the big raw and analytics tables."""
    from mobile_events_elt.warehouse import pipeline

    now = datetime.now(UTC)
    keys = []
    for n in range(objects):
        when = now - timedelta(days=3) - timedelta(hours=n % (362 * 24))
        folder = "errors/processing-failed/" if n % 10 == 0 else "landing/"
        keys.append((f"{folder}{when:year=%Y/month=%m/day=%d/hour=%H}/history-{n:06d}.gz", when))
    with ThreadPoolExecutor(max_workers=16) as pool:
        for done, _ in enumerate(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k[0], Body=b"{}"), keys), 1):
            if done % 10_000 == 0:
                print(f"  {done:,} objects", flush=True)
    with pipeline.snowflake() as conn:
        cursor = conn.cursor()
        audit = [
            (key, f"etag-{n}", f"history-load-{n}", when.replace(tzinfo=None)) for n, (key, when) in enumerate(keys)
        ]
        for start in range(0, len(audit), 10_000):
            cursor.executemany(
                "insert into raw.load_audit (file_name, file_etag, file_size, load_id, status, rows_loaded, "
                "rows_rejected, loaded_at, transform_batch_id, transformed_at) "
                "values (%s, %s, 2, %s, 'LOADED', 100, 0, %s, 'history', %s)",
                [(*row, row[-1]) for row in audit[start : start + 10_000]],
            )
        print(f"  {len(audit):,} audit rows", flush=True)
        for table, statement in HISTORY_ROWS.items():
            cursor.execute(statement.format(rows=int(rows), users=int(rows) // 10))
            print(f"  {int(rows) // 10 if table == 'analytics.users' else rows:,} rows in {table}", flush=True)


# Rows older than any window (3 to 365 days), in the columns the pipeline's statements read.
_OLD = "dateadd('minute', -uniform(4320, 525600, random()), sysdate())"
_USER = "lpad(to_char(seq8() % {users}), 10, '0')"
HISTORY_ROWS = {
    "raw.events_raw": (
        "insert into raw.events_raw (event_key, record_hash, file_name, load_id, loaded_at, event_id, user_id, "
        f"order_type, status, created_at) select 'history-' || seq8(), 'h' || seq8(), 'history.gz', "
        f"'history-load-' || (seq8() % 1000), {_OLD}, 'history-' || seq8(), {_USER}, 'USER_VISIT', 'UNCONVERTED', "
        "'2025-06-01 00:00:00' from table(generator(rowcount => {rows}))"
    ),
    "analytics.orders": (
        "insert into analytics.orders (order_id, source_event_id, user_id, order_type, status, created_at, "
        f"record_hash, file_name, loaded_at) select 'history-' || seq8(), 'history-' || seq8(), {_USER}, "
        f"'USER_VISIT', 'UNCONVERTED', {_OLD}, 'h' || seq8(), 'history.gz', {_OLD} "
        "from table(generator(rowcount => {rows}))"
    ),
    "analytics.events": (
        "insert into analytics.events (event_id, order_id, user_id, event_name, event_position, event_timestamp, "
        f"loaded_at) select 'history-' || seq8() || ':1', 'history-' || seq8(), {_USER}, 'view', 1, {_OLD}, {_OLD} "
        "from table(generator(rowcount => {rows}))"
    ),
    # The users of those orders (one for every ten), so the history is consistent with the checks.
    "analytics.users": (
        "insert into analytics.users (user_id, os_user, city, latitude, longitude, device_model, first_seen_at, "
        f"last_seen_at) select {_USER}, 'ANDROID', 'Lima', 0, 0, 'Pixel', {_OLD}, {_OLD} "
        "from table(generator(rowcount => {users}))"
    ),
}


if __name__ == "__main__":
    sys.exit(main())
