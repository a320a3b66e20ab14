"""Producer benchmark: batched PutRecords (our KinesisProducer) against one put_record call per event,
both into a local moto Kinesis started for the run on a free loopback port and stopped by PID at the end.

Prints measured figures and asserts nothing about time. Target: batched at least 20x the
per-event rate. Each method writes to a fresh one-shard stream; the records in each stream are counted
afterwards to show both delivered everything.

Usage: python benchmarks/bench_producer.py [--events N] [--single-events N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mobile_events_elt.local_stack import processes  # noqa: E402
from mobile_events_elt.local_stack.ports import free_port  # noqa: E402

# The emulator accepts any credentials; these are not secrets. Set before boto3 builds a client.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")


def new_stream(kinesis: Any, name: str) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    return name


def count_records(kinesis: Any, stream: str) -> int:
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator, total = iterator["ShardIterator"], 0
    while records := (response := kinesis.get_records(ShardIterator=iterator, Limit=10_000))["Records"]:
        total += len(records)
        iterator = response["NextShardIterator"]
    return total


def batched(kinesis: Any, stream: str, n: int) -> float:
    from mobile_events_elt.data_generation.generator import EventGenerator
    from mobile_events_elt.data_generation.pipeline import run
    from mobile_events_elt.data_generation.producer import KinesisProducer

    generator = EventGenerator(seed=1, users=1000)
    started = time.perf_counter()
    report = run(generator, KinesisProducer(stream, client=kinesis), count=n)
    seconds = time.perf_counter() - started
    if report.sent != n:
        raise SystemExit(f"batched: expected {n:,} records sent, the report says {report.sent:,}")
    return n / seconds


def one_call_per_event(kinesis: Any, stream: str, n: int) -> float:
    from mobile_events_elt.data_generation.generator import EventGenerator

    events = list(itertools.islice(EventGenerator(seed=2, users=1000), n))
    started = time.perf_counter()
    for line, key, _ in events:
        kinesis.put_record(StreamName=stream, Data=line.encode(), PartitionKey=key)
    return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000, help="events for the batched producer")
    parser.add_argument("--single-events", type=int, default=2_000, help="events for one call per event")
    args = parser.parse_args()
    port = free_port()
    name = f"bench-aws-{port}"
    with tempfile.TemporaryDirectory(prefix="bench-producer-") as tmp:
        run_dir = Path(tmp)
        command = [sys.executable, "-m", "mobile_events_elt.local_stack.aws_emulator", "--port", str(port)]
        processes.start(name, command, run_dir, env={**os.environ, "PYTHONPATH": str(REPO)}, wait_port=port)
        try:
            os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
            from mobile_events_elt.data_generation.producer import kinesis_client

            kinesis = kinesis_client()
            print(f"producer benchmark: moto Kinesis on 127.0.0.1:{port} (pid in {run_dir}), one shard per stream")
            fast = batched(kinesis, new_stream(kinesis, "bench-batched"), args.events)
            print(f"  batched PutRecords:   {args.events:>7,} events  {fast:>9,.0f} events/s")
            slow = one_call_per_event(kinesis, new_stream(kinesis, "bench-single"), args.single_events)
            print(f"  put_record per event: {args.single_events:>7,} events  {slow:>9,.0f} events/s")
            print(f"  ratio: {fast / slow:.1f}x (target >= 20x)")
            landed = (count_records(kinesis, "bench-batched"), count_records(kinesis, "bench-single"))
            print(f"  records in the streams afterwards: {landed[0]:,} and {landed[1]:,}")
        finally:
            processes.stop(name, run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
