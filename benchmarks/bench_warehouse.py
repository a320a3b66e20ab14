"""Warehouse benchmark: load + transform throughput, and what an incremental run costs as history grows.

Runs on its own local stack (the AWS and Snowflake emulators on free loopback ports, stopped by PID at
the end) and prints measured figures; it asserts nothing about time.

1. Throughput: --events (default 1,000,000) generated events in --files gzipped NDJSON files are
   loaded (one PUT and one COPY for the batch of files) and transformed; events/s for each phase and the
   seconds of each model.
   Against it, on the same emulator and the same files, the plain way to do the same work: PUT + COPY
   each file into one text column, PARSE_JSON, and four CREATE TABLE AS SELECT splits into users,
   events, orders and purchase counts, with no audit, deduplication or validation. It prints ours / plain
   (target >= 0.75) and each one's peak emulator memory (resident set of the emulator process, sampled
   every 50 ms; the emulator is restarted on the same data before each, so neither inherits the other's
   caches; target: ours <= 2x plain). --rounds (default 3) rounds alternate plain and ours, each into a
   new database; the medians of the rounds' ratios are the figures (one round moves by +-15% with the
   machine's noise).
2. Scaling: a run that adds --batch (default 100,000) events on top of that history, against the same
   batch on empty tables (target: within 1.5x) and against the naive baseline, a full rebuild of the
   analytics tables over all history plus the batch.

Usage: python benchmarks/bench_warehouse.py [--events N] [--batch N] [--files N] [--rounds N] [--keep]
e.g.   python benchmarks/bench_warehouse.py --events 200000 --batch 20000 --rounds 1 (a minute)
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# emulator_stack (this folder) also puts the repository on sys.path for the imports after it.
from emulator_stack import emulators

from mobile_events_elt.local_stack.environment import SNOWFLAKE_SECRET_ENV


class PeakRss:
    """The peak resident memory of a process while the block runs, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.wait(0.05):
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_mib = max(self.peak_mib, int(line.split()[1]) / 1024)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# The plain pipeline: the same output tables, with nothing that makes ours exactly-once and auditable.
PLAIN_SPLITS = {
    "orders": """
        create or replace table plain.orders as
        select
            records.record:EVENT_ID::varchar as order_id,
            records.record:USER_ID::varchar as user_id,
            records.record:ORDER_TYPE::varchar as order_type,
            records.record:STATUS::varchar as status,
            records.record:PAYMENT_METHOD::varchar as payment_method,
            records.record:EVENT_OUT::varchar as category,
            try_to_timestamp_ntz(records.record:CREATED_AT::varchar, 'YYYY-MM-DD HH24:MI:SS') as created_at
        from plain.records as records""",
    "events": """
        create or replace table plain.events as
        with parsed as (
            select
                records.record:EVENT_ID::varchar as order_id,
                records.record:USER_ID::varchar as user_id,
                try_to_timestamp_ntz(records.record:CREATED_AT::varchar, 'YYYY-MM-DD HH24:MI:SS') as created_at,
                records.record:INITIAL_EVENT::varchar as step_1,
                records.record:EVENT_2::varchar as step_2,
                records.record:EVENT_3::varchar as step_3,
                records.record:EVENT_OUT::varchar as step_4
            from plain.records as records
        ),
        steps as (
            select parsed.order_id, parsed.user_id, parsed.created_at, parsed.step_1 as event_name, 1 as event_position
            from parsed
            union all
            select parsed.order_id, parsed.user_id, parsed.created_at, parsed.step_2, 2 from parsed
            union all
            select parsed.order_id, parsed.user_id, parsed.created_at, parsed.step_3, 3 from parsed
            union all
            select parsed.order_id, parsed.user_id, parsed.created_at, parsed.step_4, 4 from parsed
        )
        select
            steps.order_id || ':' || steps.event_position as event_id,
            steps.order_id,
            steps.user_id,
            steps.event_name,
            steps.event_position,
            steps.created_at as event_timestamp
        from steps
        where steps.event_name is not null and steps.event_name != 'Null'""",
    "users": """
        create or replace table plain.users as
        select
            orders.user_id,
            records.record:OS_USER::varchar as os_user,
            records.record:CITY::varchar as city,
            records.record:LATITUDE::double as latitude,
            records.record:LONGITUDE::double as longitude,
            records.record:DEVICE_MODEL::varchar as device_model,
            min(orders.created_at) over (partition by orders.user_id) as first_seen_at,
            max(orders.created_at) over (partition by orders.user_id) as last_seen_at
        from plain.records as records
        inner join plain.orders as orders on records.record:EVENT_ID::varchar = orders.order_id
        qualify row_number() over (partition by orders.user_id order by orders.created_at desc) = 1""",
    "purchase_counts": """
        create or replace table plain.purchase_counts as
        with hourly as (
            select
                orders.user_id,
                date_trunc('hour', orders.created_at) as hour,
                to_date(orders.created_at) as daily,
                count(*) as hourly_purchase_count
            from plain.orders as orders
            where orders.order_type = 'PURCHASE' and orders.status = 'COMPLETED'
            group by orders.user_id, date_trunc('hour', orders.created_at), to_date(orders.created_at)
        )
        select
            hourly.*,
            sum(hourly.hourly_purchase_count) over (partition by hourly.user_id, hourly.daily)::number
                as daily_purchase_count
        from hourly""",
}


def plain_pipeline(conn, s3, bucket: str, settings) -> tuple[float, float, dict[str, float]]:
    """Load and split the bucket's files the plain way; return (load seconds, split seconds, per split)."""
    from mobile_events_elt.warehouse import loader

    cursor = conn.cursor()
    cursor.execute("create schema if not exists plain")
    cursor.execute("create or replace table plain.lines (line varchar)")
    started = time.monotonic()
    for landed in loader.list_landed_files(s3, bucket, "landing/"):
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / Path(landed.key).name
            s3.download_file(bucket, landed.key, str(local))
            cursor.execute(f"put 'file://{local}' @{settings.internal_stage}/plain/ auto_compress = false")
        cursor.execute(
            f"copy into plain.lines from @{settings.internal_stage}/plain/{local.name} "
            "file_format = (format_name = 'raw.ndjson_lines')"
        )
    loaded = time.monotonic() - started
    started = time.monotonic()
    cursor.execute(
        "create or replace table plain.records as select parse_json(lines.line) as record from plain.lines as lines"
    )
    per_split = {"parse_json": time.monotonic() - started}
    for name, sql in PLAIN_SPLITS.items():
        began = time.monotonic()
        cursor.execute(sql)
        per_split[name] = time.monotonic() - began
    return loaded, time.monotonic() - started, per_split


def lines(n: int, seed: int) -> list[str]:
    from mobile_events_elt.data_generation.generator import EventGenerator

    return [line for line, _, _ in itertools.islice(EventGenerator(None, seed=seed, users=50_000), n)]


def upload(s3, bucket: str, batch: list[str], files: int, tag: str) -> None:
    size = -(-len(batch) // files)
    for i in range(files):
        body = gzip.compress(("\n".join(batch[i * size : (i + 1) * size]) + "\n").encode(), compresslevel=1)
        s3.put_object(Bucket=bucket, Key=f"landing/year=2024/month=01/day=29/hour=00/{tag}-{i:04d}.gz", Body=body)


def timed(label: str, fn):
    started = time.monotonic()
    result = fn()
    seconds = time.monotonic() - started
    print(f"  {label:<48} {seconds:8.1f} s", flush=True)
    return result, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="plain/ours rounds; the median ratio is the figure")
    parser.add_argument("--keep", action="store_true", help="keep the emulators' data folder (printed) to inspect")
    args = parser.parse_args()

    with emulators("bench-warehouse-", keep=args.keep) as stack:
        return bench(args, stack.snowflake_port, stack.restart_snowflake)


def bench(args: argparse.Namespace, sf_port: int, fresh_emulator) -> int:
    import boto3
    import snowflake.connector

    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import dbt_runner, loader, maintenance, setup, transform

    s3 = boto3.client("s3")
    sf_password = os.environ[SNOWFLAKE_SECRET_ENV]
    # dbt's login for the bare connections below (warehouse/dbt_runner.py): the emulator's target.
    os.environ.update({"WAREHOUSE_DBT_TARGET": "emulator", "WAREHOUSE_DBT_PASSWORD": sf_password})
    print(f"generating {args.events:,} + {args.batch:,} events ...", flush=True)
    history, batch = lines(args.events, seed=1), lines(args.batch, seed=2)

    def connect(database: str):
        conn = snowflake.connector.connect(
            host="127.0.0.1", port=sf_port, protocol="http", account="bench", user="bench", password=sf_password,
            database=database, network_timeout=600,
        )  # fmt: skip
        settings = dataclasses.replace(load_settings(), database=database, stage_mode="internal")
        setup.run_setup(conn, settings)
        return conn, settings

    def run(conn, settings, bucket: str) -> float:
        """One ordinary pipeline run; returns the seconds its load took."""
        started = time.monotonic()
        loader.load_new_files(conn, s3, bucket, "landing/", settings)
        loaded = time.monotonic() - started
        transform.run_all(conn)
        return loaded

    print(f"\n1. throughput: {args.events:,} events in {args.files} files, {args.rounds} round(s)")
    s3.create_bucket(Bucket="bench-history")
    upload(s3, "bench-history", history, args.files, "history")

    def plain_round(database: str) -> tuple[float, float]:
        """The plain way into a new database on a freshly started emulator: (seconds, peak MiB)."""
        plain_conn, plain_settings = connect(database)
        plain_conn.close()
        with PeakRss(fresh_emulator()) as plain_rss:
            plain_conn, _ = connect(database)
            plain_load_s, plain_split_s, per_split = plain_pipeline(plain_conn, s3, "bench-history", plain_settings)
        print(f"  {'plain: PUT + COPY':<48} {plain_load_s:8.1f} s")
        print(f"  {'plain: PARSE_JSON + 4 CREATE TABLE AS':<48} {plain_split_s:8.1f} s  "
              + ", ".join(f"{k} {v:.1f}" for k, v in per_split.items()))  # fmt: skip
        plain_rows = plain_conn.cursor().execute("select count(*) from plain.orders").fetchone()[0]
        print(f"  plain: {args.events / (plain_load_s + plain_split_s):,.0f} events/s ({plain_rows:,} orders)")
        plain_conn.close()
        return plain_load_s + plain_split_s, plain_rss.peak_mib

    def our_round(database: str):
        """The pipeline's load and transforms into a new database on a freshly started emulator:
        (seconds, peak MiB, connection, settings)."""
        conn, settings = connect(database)
        conn.close()
        pid = fresh_emulator()
        with PeakRss(pid) as load_rss:
            conn, settings = connect(database)
            # dbt's parse, before the clock starts: the scheduler parses once for the tasks it forks
            # (warehouse/dbt_preload.py), so a run never pays it.
            dbt_runner.prepare(dbt_runner.Target.of_connector(conn))
            _, load_s = timed(
                "ours: load (PUT + COPY + split + audit)",
                lambda: loader.load_new_files(conn, s3, "bench-history", "landing/", settings),
            )
        with PeakRss(pid) as transform_rss:
            steps, transform_s = timed("ours: transform (all models)", lambda: transform.run_batch(conn))
        print("  " + ", ".join(f"{r.step} {r.seconds:.1f}" for r in steps))
        total = load_s + transform_s
        print(f"  ours: {args.events / total:,.0f} events/s ({args.events / load_s:,.0f} load, "
              f"{args.events / transform_s:,.0f} transform); peak memory load {load_rss.peak_mib:,.0f} MiB, "
              f"transform {transform_rss.peak_mib:,.0f} MiB")  # fmt: skip
        return total, max(load_rss.peak_mib, transform_rss.peak_mib), conn, settings

    # Rounds alternate plain and ours, each on a new database and a fresh emulator; the machine's noise
    # (checkpoints, other processes) moves single runs by +-15%, so the median of the rounds is the figure.
    speed, memory = [], []
    for n in range(args.rounds):
        print(f"  round {n + 1}:")
        plain_s, plain_mib = plain_round(f"BENCH_PLAIN_{n}")
        ours_s, ours_mib, conn, settings = our_round(f"BENCH_HISTORY_{n}")
        speed.append(plain_s / ours_s)
        memory.append(ours_mib / plain_mib)
        print(f"  round {n + 1}: ours / plain throughput {speed[-1]:4.2f}x, peak emulator memory "
              f"ours {ours_mib:,.0f} MiB / plain {plain_mib:,.0f} MiB = {memory[-1]:4.2f}x")  # fmt: skip
    rounds = ", ".join(f"{x:.2f}" for x in speed)
    print(f"\n  ours / plain throughput: {statistics.median(speed):5.2f}x median of {args.rounds} ({rounds})"
          "  (target >= 0.75)")  # fmt: skip
    print(f"  peak emulator memory, ours / plain: {statistics.median(memory):4.2f}x median "
          f"({', '.join(f'{x:.2f}' for x in memory)})  (target <= 2x)")  # fmt: skip

    print(f"\n2. scaling: a run adding {args.batch:,} events")
    upload(s3, "bench-history", batch, 1, "batch")
    batch_load_s, incremental_s = timed(
        f"on top of {args.events:,} (incremental)", lambda: run(conn, settings, "bench-history")
    )
    s3.create_bucket(Bucket="bench-empty")
    upload(s3, "bench-empty", batch, 1, "batch")
    empty_conn, empty_settings = connect("BENCH_EMPTY")
    _, empty_s = timed("on empty tables", lambda: run(empty_conn, empty_settings, "bench-empty"))
    maintenance.rebuild(conn)
    _, rebuild_s = timed(f"full rebuild over {args.events + args.batch:,} (naive)", lambda: transform.run_all(conn))
    # The naive run loads the same new file, then rebuilds everything from RAW.
    naive_s = batch_load_s + rebuild_s
    rows = conn.cursor().execute("select count(*) from analytics.orders").fetchone()[0]
    print(f"\n  incremental / empty tables:   {incremental_s / empty_s:5.2f}x  (target <= 1.5x)")
    print(f"  naive rebuild / incremental:  {naive_s / incremental_s:5.2f}x  (incremental is that much cheaper)")
    print(f"  orders after the runs: {rows:,} (expected {args.events + args.batch:,})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the benchmark process {rss:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
