"""Backlog benchmark: how fast a backlog of delivered files drains, batched against one file at a time.

Runs on its own local stack (the AWS and Snowflake emulators on free loopback ports, stopped by PID at the
end) and prints measured figures; it asserts nothing about time.

--files (default 2,000) gzipped NDJSON files of --events-per-file (default 200) generated events wait under
landing/. The pipeline code loads them (warehouse.loader.load_new_files: up to 1,000 files per PUT and per
COPY, one transaction per batch) and transforms them (warehouse.transform.run_all) into one database; then,
in the same run and on the same emulator, the one-file-at-a-time path (files_per_copy=1: a PUT, a COPY and a
transaction per file) loads and transforms the same files into another. Prints files/s and events/s for
both and the ratio (target >= 5x), and checks both databases hold the same orders.

--baseline-files N times the one-file-at-a-time path on the first N files only (its files/s is then measured
on N files, against tables that hold fewer rows than the batched run's, which flatters it).

Usage: python benchmarks/bench_backlog.py [--files N] [--events-per-file N] [--baseline-files N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# emulator_stack (this folder) also puts the repository on sys.path for the imports after it.
from emulator_stack import emulators

from mobile_events_elt.local_stack.environment import SNOWFLAKE_SECRET_ENV

PREFIX = "landing/"


def generate(files: int, per_file: int) -> list[list[str]]:
    from mobile_events_elt.data_generation.generator import EventGenerator

    events = [line for line, _, _ in itertools.islice(EventGenerator(None, seed=7, users=50_000), files * per_file)]
    return [events[i * per_file : (i + 1) * per_file] for i in range(files)]


def upload(s3, bucket: str, batches: list[list[str]]) -> list[str]:
    keys = [f"{PREFIX}year=2024/month=01/day=29/hour={i // 500:02d}/backlog-{i:05d}.gz" for i in range(len(batches))]

    def put(item: tuple[str, list[str]]) -> None:
        key, lines = item
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, zip(keys, batches, strict=True)))
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--events-per-file", type=int, default=200)
    parser.add_argument("--baseline-files", type=int, default=None, help="time the single-file path on these")
    parser.add_argument("--keep", action="store_true", help="keep the emulators' data folder (printed) to inspect")
    args = parser.parse_args()

    with emulators("bench-backlog-", keep=args.keep) as stack:
        return bench(args, stack.snowflake_port)


def bench(args: argparse.Namespace, sf_port: int) -> int:
    import boto3
    import snowflake.connector

    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import loader, setup, transform
    from mobile_events_elt.warehouse.pipeline import use_database

    s3 = boto3.client("s3")
    # dbt's login for the bare connections below (warehouse/dbt_runner.py): the emulator's target.
    os.environ.update({"WAREHOUSE_DBT_TARGET": "emulator", "WAREHOUSE_DBT_PASSWORD": os.environ[SNOWFLAKE_SECRET_ENV]})
    print(f"generating {args.files:,} files of {args.events_per_file} events ...", flush=True)
    batches = generate(args.files, args.events_per_file)
    s3.create_bucket(Bucket="backlog")
    upload(s3, "backlog", batches)
    baseline_files = min(args.baseline_files or args.files, args.files)
    if baseline_files < args.files:
        s3.create_bucket(Bucket="backlog-baseline")
        upload(s3, "backlog-baseline", batches[:baseline_files])

    def connect(database: str):
        conn = snowflake.connector.connect(
            host="127.0.0.1", port=sf_port, protocol="http", account="bench", user="bench",
            password=os.environ[SNOWFLAKE_SECRET_ENV], database=database, network_timeout=600,
        )  # fmt: skip
        settings = dataclasses.replace(load_settings(), database=database, stage_mode="internal")
        setup.run_setup(conn, settings)
        use_database(conn, database)
        return conn, settings

    def drain(database: str, bucket: str, files_per_copy: int) -> tuple[float, float, loader.LoadReport, int]:
        conn, settings = connect(database)
        started = time.monotonic()
        report = loader.load_new_files(conn, s3, bucket, PREFIX, settings, files_per_copy=files_per_copy)
        loaded = time.monotonic() - started
        transform.run_all(conn)
        total = time.monotonic() - started
        orders = conn.cursor().execute("select count(*) from analytics.orders").fetchone()[0]
        conn.close()
        return loaded, total, report, orders

    results = {}
    for label, database, bucket, per_copy, files in (
        ("batched (1,000 files per COPY)", "BACKLOG_BATCHED", "backlog", loader.MAX_FILES_PER_COPY, args.files),
        (
            "one file at a time",
            "BACKLOG_SINGLE",
            "backlog" if baseline_files == args.files else "backlog-baseline",
            1,
            baseline_files,
        ),
    ):
        print(f"\n{label}: {files:,} files", flush=True)
        loaded, total, report, orders = drain(database, bucket, per_copy)
        events = files * args.events_per_file
        print(f"  load {loaded:8.1f} s   load + transform {total:8.1f} s   COPY statements {report.copy_statements:,}")
        print(f"  {files / total:8.1f} files/s   {events / total:10,.0f} events/s   "
              f"({report.files_loaded:,} files loaded, {report.rows_loaded:,} rows, {orders:,} orders)")  # fmt: skip
        if report.files_loaded != files or report.files_failed or report.rejected_keys:
            print(f"  error: expected {files} files loaded, got {report}", file=sys.stderr)
            return 1
        results[label] = (files / total, orders, files)

    (batched_rate, batched_orders, _), (single_rate, single_orders, single_files) = results.values()
    if single_files == args.files and batched_orders != single_orders:
        print(f"error: the two paths disagree: {batched_orders} vs {single_orders} orders", file=sys.stderr)
        return 1
    print(f"\nbatched / one file at a time: {batched_rate / single_rate:5.1f}x files/s  (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
