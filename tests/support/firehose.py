"""The local Firehose provisioned on the AWS emulator, events put through it and the objects it
delivers; shared by the delivery and crash tests."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from aws_infrastructure.cli import main
from tests.unit.aws_infrastructure.test_aws_settings import config_dict, write_config


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    """A guard against hanging, not a timing assertion: fails only if the condition never comes true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def quiet(_: str) -> None:
    """Delivery log sink for in-process runs."""


def provision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval_seconds: int) -> dict[str, Any]:
    """A 2-shard stream and its delivery stream (1 MiB / interval_seconds buffering), checkpoints in tmp_path."""
    data = config_dict()
    data["stream"]["shard_count"] = 2
    data["firehose"]["buffering"] = {"size_mib": 1, "interval_seconds": interval_seconds}
    configure(tmp_path, monkeypatch, data)
    monkeypatch.setenv("FIREHOSE_STATE_DIR", str(tmp_path / "state"))
    assert main(["up"]) == 0
    return data


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any]) -> None:
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / uuid.uuid4().hex, data)))


def put_events(stream: str, count: int, keys: int = 25, start: int = 0, pad: int = 0) -> list[dict[str, Any]]:
    """Put events (each with a unique id and its key's running number); return them with shard and sequence."""
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    events = [
        {"id": n, "key": f"user-{n % keys}", "n": n // keys, "pad": "x" * pad} for n in range(start, start + count)
    ]
    for first in range(0, count, 500):
        chunk = events[first : first + 500]
        answer = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": json.dumps(e).encode(), "PartitionKey": e["key"]} for e in chunk],
        )
        assert answer["FailedRecordCount"] == 0
        for event, result in zip(chunk, answer["Records"], strict=True):
            event["shard"], event["sequence"] = result["ShardId"], result["SequenceNumber"]
    return events


def objects(bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name="us-east-1")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def lines(body: bytes) -> list[dict[str, Any]]:
    assert body[:2] == b"\x1f\x8b", "objects must be gzipped"
    text = gzip.decompress(body).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]
