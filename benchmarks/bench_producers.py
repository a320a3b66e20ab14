"""Fan-out benchmark: ``python -m data_generation --producers N`` for a fixed time at full speed, N = 1, 2, 4,
into the local moto Kinesis (the project's patched emulator), started for the run on a free loopback port and
stopped by PID at the end.

Prints, per N, the events per second the summed report gives (records sent over the slowest producer's
time): the median of several rounds, the rounds interleaved (1, 2, 4, 1, 2, 4, ...) so that a change in
the machine's load hits every N alike, with the slowest and fastest round beside it; the ratio of the
medians against one producer (the plain single-process generator, the naive baseline); the machine's
core count; and the CPU the producers and the emulator used, in cores, which says whether the producers
were short of CPU. Also prints the generator's mean record size (data + partition key, what a shard's
1 MiB/s counts). Each run writes to a fresh stream whose records are counted against the report.
Asserts nothing about time.

Usage: python benchmarks/bench_producers.py [--seconds S] [--rounds R] [--shards K] [--producers 1 2 4] [--users U]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
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


def children_cpu() -> float:
    """CPU seconds of every finished descendant (the producer processes included, once waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)
    producers_cpu: list[float] = field(default_factory=list)  # cores used, over each run's wall time
    emulator_cpu: list[float] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="sending time per run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per producer count, interleaved (default 3)")
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
                f"producers benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.rounds} rounds of "
                f"{args.seconds:g} s at "
                f"full speed per run into moto Kinesis on 127.0.0.1:{port}, {args.shards} shards per stream, "
                f"{args.users:,} users; os.cpu_count() = {cores}, load average {os.getloadavg()[0]:.1f} at the start"
            )
            print(f"  mean record: {size:,.0f} bytes (NDJSON line + partition key)")
            figures = {n: Figures() for n in args.producers}
            for round_number, n in itertools.product(range(args.rounds), args.producers):
                stream = f"bench-producers-{n}-{round_number}"
                kinesis.create_stream(StreamName=stream, ShardCount=args.shards)
                kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
                emulator, mine, started = cpu_seconds(pid), children_cpu(), time.monotonic()
                report = run(n, stream, args, env, run_dir / f"report-{n}-{round_number}.json")
                wall = time.monotonic() - started
                landed = count_records(kinesis, stream)
                kinesis.delete_stream(StreamName=stream)
                if landed != report["sent"]:
                    raise SystemExit(
                        f"{n} producers: the report says {report['sent']:,} sent, the stream has {landed:,}"
                    )
                figure = figures[n]
                figure.rates.append(report["events_per_second"])
                figure.producers_cpu.append((children_cpu() - mine) / wall)
                figure.emulator_cpu.append((cpu_seconds(pid) - emulator) / wall)
                print(
                    f"  round {round_number + 1}, {n} producer(s): {report['events_per_second']:,.0f} events/s",
                    flush=True,
                )
            baseline = statistics.median(figures[args.producers[0]].rates)
            columns = (("producers", 9), ("events/s", 9), ("(rounds)", 17), ("vs 1", 6), ("cores", 5))
            columns += (("CPU: producers", 15), ("emulator", 8))
            print("  " + " ".join(f"{name:>{width}}" for name, width in columns))
            for n, figure in figures.items():
                rate = statistics.median(figure.rates)
                spread = f"{min(figure.rates):,.0f}-{max(figure.rates):,.0f}"
                print(
                    f"  {n:>9} {rate:>9,.0f} {spread:>17} {rate / baseline:>5.2f}x {cores:>5} "
                    f"{statistics.median(figure.producers_cpu):>15.2f} {statistics.median(figure.emulator_cpu):>8.2f}"
                )
        finally:
            processes.stop("aws", run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
