"""Warehouse benchmark: load + transform throughput, and what an incremental run costs as history grows.

Runs on its own local stack (the AWS and Snowflake emulators on free loopback ports, stopped by PID at
the end) and prints measured figures; it asserts nothing about time.

1. Throughput: --events (default 1,000,000) generated events in --files gzipped NDJSON files are
   loaded (PUT + COPY per file) and transformed; events/s for each phase and peak memory.
2. Scaling: a run that adds --batch (default 100,000) events on top of that history, against the same
   batch on empty tables (target: within 1.5x) and against the naive baseline, a full rebuild of the
   analytics tables over all history plus the batch.

Usage: python benchmarks/bench_warehouse.py [--events N] [--batch N] [--files N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from local_stack import processes  # noqa: E402
from local_stack.environment import (  # noqa: E402
    EMULATOR_AWS_CREDENTIALS,
    SNOWFLAKE_SECRET_ENV,
    snowflake_login_secret,
)
from local_stack.ports import free_port  # noqa: E402


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lines(n: int, seed: int) -> list[str]:
    from data_generation.generator import EventGenerator

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
    args = parser.parse_args()

    run_dir = Path(tempfile.mkdtemp(prefix="bench-warehouse-"))
    aws_port, sf_port = free_port(), free_port()
    env = {**os.environ, **EMULATOR_AWS_CREDENTIALS, "PYTHONPATH": str(REPO)}
    py = sys.executable
    processes.start("aws", [py, "-m", "local_stack.aws_emulator", "--port", str(aws_port)], run_dir, env, aws_port)
    sf_argv = [py, "-m", "local_stack.snowflake_emulator", "--port", str(sf_port), "--data-dir", str(run_dir / "sf")]
    sf_pid = processes.start("snowflake", sf_argv, run_dir, env, sf_port)
    os.environ[SNOWFLAKE_SECRET_ENV] = snowflake_login_secret(run_dir / "sf")  # what bench() logs in with
    os.environ.update(EMULATOR_AWS_CREDENTIALS, AWS_ENDPOINT_URL=f"http://127.0.0.1:{aws_port}")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        return bench(args, sf_port, sf_pid)
    finally:
        processes.stop("aws", run_dir)
        processes.stop("snowflake", run_dir)


def bench(args: argparse.Namespace, sf_port: int, sf_pid: int) -> int:
    import boto3
    import snowflake.connector

    from warehouse import loader, maintenance, setup, transform
    from warehouse.settings import load_settings

    s3 = boto3.client("s3")
    sf_password = os.environ[SNOWFLAKE_SECRET_ENV]
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

    print(f"\n1. throughput: {args.events:,} events in {args.files} files")
    s3.create_bucket(Bucket="bench-history")
    upload(s3, "bench-history", history, args.files, "history")
    conn, settings = connect("BENCH_HISTORY")
    _, load_s = timed(
        "load (PUT + COPY + split)", lambda: loader.load_new_files(conn, s3, "bench-history", "landing/", settings)
    )
    _, transform_s = timed("transform (all models)", lambda: transform.run_all(conn))
    total = load_s + transform_s
    print(f"  load + transform: {args.events / total:,.0f} events/s ({args.events / load_s:,.0f} load, "
          f"{args.events / transform_s:,.0f} transform)")  # fmt: skip

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
    print(f"\npeak memory: Snowflake emulator {peak_rss_mib(sf_pid):,.0f} MiB, benchmark process {rss:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
