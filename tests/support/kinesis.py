"""A Kinesis stream on the AWS emulator, a fault-injecting wrapper around the real client, and the producer's
command line; shared by the producer and spool tests."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

THROTTLED = "ProvisionedThroughputExceededException"


class FaultyKinesis:
    """The real client, but ``put_records`` fails chosen records, or whole calls, before they reach it."""

    def __init__(
        self,
        client: Any,
        record_error: Callable[[dict], str | None] = lambda record: None,
        call_errors: list[BaseException] | None = None,
    ) -> None:
        self._client = client
        self._record_error = record_error
        self._call_errors = call_errors or []
        self.calls: list[list[dict]] = []
        self.injected = 0

    def put_records(self, *, StreamName: str, Records: list[dict]) -> dict:
        self.calls.append(Records)
        if self._call_errors:
            raise self._call_errors.pop(0)
        errors = [self._record_error(record) for record in Records]
        passed = [record for record, error in zip(Records, errors, strict=True) if error is None]
        accepted = iter(self._client.put_records(StreamName=StreamName, Records=passed)["Records"] if passed else [])
        results = [{"ErrorCode": e, "ErrorMessage": f"injected {e}"} if e else next(accepted) for e in errors]
        self.injected += sum(e is not None for e in errors)
        return {"FailedRecordCount": sum(e is not None for e in errors), "Records": results}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def make_stream(kinesis: Any, shards: int = 1) -> str:
    name = f"test-{uuid.uuid4().hex[:10]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    return name


def lines_by_shard(kinesis: Any, stream: str) -> dict[str, list[tuple[str, str]]]:
    """Every (data as text, partition key) in the stream, by shard, in arrival order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found[shard["ShardId"]] = []
        while records := (response := kinesis.get_records(ShardIterator=iterator, Limit=10_000))["Records"]:
            found[shard["ShardId"]] += [(r["Data"].decode(), r["PartitionKey"]) for r in records]
            iterator = response["NextShardIterator"]
    return found


def stream_records(kinesis: Any, stream: str) -> list[tuple[str, str]]:
    """Every (data as text, partition key) in the stream, shard by shard, in arrival order."""
    return [record for shard in lines_by_shard(kinesis, stream).values() for record in shard]


def throttle_error() -> ClientError:
    return ClientError({"Error": {"Code": THROTTLED, "Message": "Rate exceeded"}}, "PutRecords")


def generate_command(*args: str) -> list[str]:
    """The command line of ``mobile-events-generate`` with ``args``, run as a module by this interpreter, for a
    test that drives the producer as a process of its own (signals, exit codes, environment)."""
    return [sys.executable, "-m", "mobile_events_elt.data_generation", *args]


def wait_for_records(kinesis: Any, stream: str, count: int, process: subprocess.Popen[str], within: float) -> None:
    """Wait until ``stream`` holds ``count`` records from the producer ``process`` (started with text stderr);
    fail the test with its stderr if it ends, or ``within`` seconds pass, first."""
    deadline = time.monotonic() + within
    while len(stream_records(kinesis, stream)) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the producer did not get going: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.2)
