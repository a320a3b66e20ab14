"""Benchmark: the local Firehose delivery (Kinesis -> S3) against moto's own DirectPut path, and its memory.

Starts its own moto server (the local stack's launcher) on a free port and stops it by PID. Prints measured
figures only; asserts nothing about time. Run: .venv/bin/python benchmarks/bench_firehose.py [--events N]

- delivery: N seed-shaped events put into a 2-shard Kinesis stream, then `deliver(once=True)` timed alone
  (reading shards, framing, gzip, S3 writes, checkpoint), with the config's 5 MiB / 60 s buffering.
- DirectPut: the same N events through moto's put_record_batch (500 per call) to a DirectPut delivery
  stream, which writes one S3 object per call, uncompressed and undelimited.
- memory: peak Python heap (tracemalloc) and peak RSS of a delivery process at two volumes; the buffer is
  bounded by the size hint and the GetRecords page, so the peak should not grow with the volume.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from mobile_events_elt.local_stack import processes  # noqa: E402
from mobile_events_elt.local_stack.ports import free_port  # noqa: E402

REGION = "us-east-1"
ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/bench-firehose"
CITIES = ["Mexico City", "Guadalajara", "Monterrey", "Puebla", "Tijuana"]


def events(count: int, seed: int) -> list[bytes]:
    """Seed-shaped events (the dataset README's fields), made with the stdlib for speed."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        out.append(
            json.dumps(
                {
                    "USER_ID": f"{rng.getrandbits(40):010x}",
                    "INITIAL_EVENT": "LAUNCH_APP",
                    "EVENT_2": "HOME",
                    "EVENT_3": "GO_TO_CATEGORY",
                    "EVENT_OUT": rng.choice(["ELECTRONICS", "CLOTHING", "FOOD", "BOOKS"]),
                    "OS_USER": rng.choice(["Android_13", "iOS_16", "Windows_11"]),
                    "CITY": rng.choice(CITIES),
                    "LATITUDE": 19.4326,
                    "LONGITUDE": -99.1332,
                    "ORDER_TYPE": "PURCHASE",
                    "STATUS": "COMPLETED",
                    "PAYMENT_METHOD": "Credit_card",
                    "CREATED_AT": f"2024-01-29 19:{n // 60 % 60:02d}:{n % 60:02d}",
                    "HOURLY_PURCHASE_COUNT": 1,
                    "DAILY_PURCHASE_COUNT": 1,
                    "SEQ": n,
                }
            ).encode()
        )
    return out


def create_kinesis_delivery(name: str, bucket: str, shards: int) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    boto3.client("firehose", region_name=REGION).create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ACCOUNT_ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ACCOUNT_ROLE,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": f"{name}/year=!{{timestamp:yyyy}}/month=!{{timestamp:MM}}/day=!{{timestamp:dd}}/",
            "ErrorOutputPrefix": f"errors-{name}/!{{firehose:error-output-type}}/",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
            "CompressionFormat": "GZIP",
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
        },
    )


def put_into_kinesis(stream: str, data: list[bytes]) -> float:
    kinesis = boto3.client("kinesis", region_name=REGION)
    started = time.perf_counter()
    for first in range(0, len(data), 500):
        batch = [{"Data": d, "PartitionKey": str(first + i)} for i, d in enumerate(data[first : first + 500])]
        assert kinesis.put_records(StreamName=stream, Records=batch)["FailedRecordCount"] == 0
    return time.perf_counter() - started


def bucket_totals(bucket: str, prefix: str) -> tuple[int, int]:
    s3 = boto3.client("s3", region_name=REGION)
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            count += 1
            size += item["Size"]
    return count, size


def measure_delivery(bucket: str, data: list[bytes], state: Path) -> dict[str, Any]:
    from mobile_events_elt.local_stack.firehose import deliver

    name = "bench-kinesis-source"
    create_kinesis_delivery(name, bucket, shards=2)
    put_seconds = put_into_kinesis(name, data)
    started = time.perf_counter()
    report = deliver(once=True, delivery_stream=name, region=REGION, state_directory=state, log=lambda _: None)
    seconds = time.perf_counter() - started
    assert report.records_delivered == len(data)
    objects, size = bucket_totals(bucket, f"{name}/")
    return {"put_seconds": put_seconds, "seconds": seconds, "objects": objects, "bytes": size}


def measure_direct_put(bucket: str, data: list[bytes]) -> dict[str, Any]:
    firehose = boto3.client("firehose", region_name=REGION)
    name = "bench-direct-put"
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ACCOUNT_ROLE,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": f"{name}/",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
            "CompressionFormat": "GZIP",
        },
    )
    started = time.perf_counter()
    for first in range(0, len(data), 500):
        records = [{"Data": d + b"\n"} for d in data[first : first + 500]]
        assert firehose.put_record_batch(DeliveryStreamName=name, Records=records)["FailedPutCount"] == 0
    seconds = time.perf_counter() - started
    objects, size = bucket_totals(bucket, f"{name}/")
    return {"seconds": seconds, "objects": objects, "bytes": size}


# The measured process: the delivery with Python's allocation tracing on, reporting its heap peak.
MEASURED = """
import json, sys, tracemalloc
tracemalloc.start()
from mobile_events_elt.local_stack.firehose import deliver
report = deliver(once=True, delivery_stream=sys.argv[1], region=sys.argv[2], log=lambda _: None)
print(json.dumps({"records": report.records_delivered, "heap_peak": tracemalloc.get_traced_memory()[1]}))
"""


def peak_memory(bucket: str, volume: int, state: Path) -> dict[str, float]:
    """Peak RSS and peak Python heap of a process that delivers `volume` events."""
    name = f"bench-memory-{volume}"
    create_kinesis_delivery(name, bucket, shards=1)
    put_into_kinesis(name, events(volume, seed=volume))
    process = subprocess.Popen(
        [sys.executable, "-c", MEASURED, name, REGION],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "FIREHOSE_STATE_DIR": str(state)},
        stdout=subprocess.PIPE,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    result = json.loads(output)
    assert process.returncode == 0 and result["records"] == volume, f"delivery for {name} failed"
    return {"rss_mib": usage.ru_maxrss / 1024, "heap_mib": result["heap_peak"] / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events for the throughput comparison")
    parser.add_argument("--memory-volumes", type=int, nargs=2, default=[20_000, 80_000])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-firehose-"))
    port = free_port()
    name = f"bench-aws-{port}"
    processes.start(
        name,
        [sys.executable, "-m", "mobile_events_elt.local_stack.aws_emulator", "--port", str(port)],
        work,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        wait_port=port,
    )
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
    )
    try:
        bucket = "bench-firehose"
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        data = events(args.events, seed=1)
        raw = sum(len(d) + 1 for d in data)
        print(f"moto server on 127.0.0.1:{port}; {args.events} events, {raw / 2**20:.1f} MiB as NDJSON")

        ours = measure_delivery(bucket, data, work / "state")
        theirs = measure_direct_put(bucket, data)
        ours_rate, theirs_rate = args.events / ours["seconds"], args.events / theirs["seconds"]
        print(
            f"Kinesis put_records (producer side, not in the rate): {args.events / ours['put_seconds']:,.0f} events/s"
        )
        print(
            f"local delivery  Kinesis -> S3 : {ours_rate:>10,.0f} events/s  ({ours['seconds']:.2f} s, "
            f"{ours['objects']} gzipped objects, {ours['bytes'] / 2**20:.2f} MiB)"
        )
        print(
            f"moto DirectPut  batch  -> S3 : {theirs_rate:>10,.0f} events/s  ({theirs['seconds']:.2f} s, "
            f"{theirs['objects']} objects, {theirs['bytes'] / 2**20:.2f} MiB, no gzip)"
        )
        print(f"ratio local / DirectPut: {ours_rate / theirs_rate:.2f}")

        for volume in args.memory_volumes:
            peak = peak_memory(bucket, volume, work / "state")
            print(
                f"delivering {volume:>7,} events: peak Python heap {peak['heap_mib']:5.1f} MiB, "
                f"peak RSS {peak['rss_mib']:6.1f} MiB (RSS includes the interpreter, boto3 and allocator slack)"
            )
    finally:
        processes.stop(name, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
