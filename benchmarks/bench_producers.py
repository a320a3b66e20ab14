"""Fan-out benchmark: ``python -m data_generation --producers N`` for a fixed time at full speed, N = 1, 2, 4,
into the local moto Kinesis (the project's patched emulator), started for the run on a free loopback port and
stopped by PID at the end.

Prints, per N, the events per second the summed report gives (records sent over the slowest producer's
time), the ratio against one producer (the plain single-process generator, the naive baseline), the
machine's core count, and the CPU share the emulator used, since one emulator process receives every
stream. Also prints the generator's mean record size (data + partition key, what a shard's 1 MiB/s
counts). Each N writes to a fresh stream; its records are counted afterwards against the report.
Asserts nothing about time.

Usage: python benchmarks/bench_producers.py [--seconds S] [--shards K] [--producers 1 2 4] [--users U]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from local_stack import processes  # noqa: E402
from local_stack.environment import EMULATOR_AWS_CREDENTIALS  # noqa: E402
from local_stack.ports import free_port  # noqa: E402


def mean_record_bytes(events: int = 20_000) -> float:
    """Mean bytes per Kinesis record as the generator makes them: the NDJSON line plus its partition key."""
    from data_generation.generator import EventGenerator, LiveClock

    generator = EventGenerator(seed=1, users=1000, live=LiveClock(int(time.time())))
    sizes = [len(line.encode()) + len(key.encode()) for line, key, _ in itertools.islice(generator, events)]
    return sum(sizes) / len(sizes)


def count_records(kinesis: Any, stream: str) -> int:
    total = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while records := (response := kinesis.get_records(ShardIterator=iterator, Limit=10_000))["Records"]:
            total += len(records)
            iterator = response["NextShardIterator"]
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(producers: int, stream: str, args: argparse.Namespace, env: dict[str, str], report: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "data_generation", "--stream", stream, "--producers", str(producers)]
    command += ["--duration", str(args.seconds), "--users", str(args.users), "--seed", "1"]
    command += ["--report-json", str(report), "--quiet"]
    subprocess.run(command, cwd=REPO, env=env, check=True)
    return json.loads(report.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="sending time per run (default 20)")
    parser.add_argument("--shards", type=int, default=4, help="shards per stream (default 4)")
    parser.add_argument("--producers", type=int, nargs="+", default=[1, 2, 4], help="runs (default 1 2 4)")
    parser.add_argument("--users", type=int, default=1000, help="simulated users per run (default 1000)")
    args = parser.parse_args()
    cores = os.cpu_count()
    port = free_port()
    env = {**os.environ, **EMULATOR_AWS_CREDENTIALS, "PYTHONPATH": str(REPO)}
    env.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_DEFAULT_REGION="us-east-1")
    os.environ.update(env)
    size = mean_record_bytes()
    with tempfile.TemporaryDirectory(prefix="bench-producers-") as tmp:
        run_dir = Path(tmp)
        command = [sys.executable, "-m", "local_stack.aws_emulator", "--port", str(port)]
        pid = processes.start("aws", command, run_dir, env=env, wait_port=port)
        try:
            from data_generation.producer import kinesis_client

            kinesis = kinesis_client()
            print(
                f"producers benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.seconds:g} s at "
                f"full speed per run into moto Kinesis on 127.0.0.1:{port}, {args.shards} shards per stream, "
                f"{args.users:,} users; os.cpu_count() = {cores}, load average {os.getloadavg()[0]:.1f} at the start"
            )
            print(f"  mean record: {size:,.0f} bytes (NDJSON line + partition key)")
            columns = ("producers", 9), ("events/s", 10), ("vs 1", 6), ("cores", 5), ("sent", 9), ("in stream", 9)
            print("  " + " ".join(f"{name:>{width}}" for name, width in columns) + "  emulator CPU (of one core)")
            baseline = None
            for n in args.producers:
                stream = f"bench-producers-{n}"
                kinesis.create_stream(StreamName=stream, ShardCount=args.shards)
                kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
                cpu, started = cpu_seconds(pid), time.monotonic()
                report = run(n, stream, args, env, run_dir / f"report-{n}.json")
                emulator = (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
                landed = count_records(kinesis, stream)
                kinesis.delete_stream(StreamName=stream)
                rate = report["events_per_second"]
                baseline = baseline or rate
                print(
                    f"  {n:>9} {rate:>10,.0f} {rate / baseline:>5.2f}x {cores:>5} {report['sent']:>9,} "
                    f"{landed:>9,} {emulator:>11.0%}"
                )
        finally:
            processes.stop("aws", run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
