"""The AWS emulator SIGKILLed and restarted while the generator streams: with its journal, nothing is lost.

Real processes throughout: the emulator launcher with ``--journal``, `aws_infrastructure up`, the generator
CLI, the local Firehose delivery. The emulator is killed mid-stream, kept down a few seconds and started
again on the same port and journal; the generator's retries (or its spool, replayed afterwards) carry the
records over the outage, and the journal brings back what was acknowledged before the kill.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack import processes
from local_stack.aws_journal import JOURNAL_ENV
from local_stack.environment import local_env
from local_stack.ports import free_port
from tests.unit.aws_infrastructure.test_aws_settings import config_dict, write_config

REPO = Path(__file__).resolve().parents[3]
EVENTS, SEED, RATE = 6000, 11, 1000  # ~6 s of streaming
OUTAGE_SECONDS = 3.5


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while processes.alive(pid):  # also reaps it: it is our child
        assert time.monotonic() < deadline, f"{pid} survived SIGKILL"
        time.sleep(0.05)


class Emulator:
    """The AWS emulator launcher as its own process, on a fixed port and journal, started and killed at will."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int) -> None:
        self.run_dir, self.env, self.port = tmp_path / "run", env, port
        self.journal = tmp_path / "aws-journal.jsonl"
        self.pid = 0

    @property
    def log(self) -> str:
        return (self.run_dir / "aws.log").read_text(errors="replace")

    def start(self) -> None:
        command = [sys.executable, "-m", "local_stack.aws_emulator", "--port", str(self.port)]
        self.pid = processes.start(
            "aws", [*command, "--journal", str(self.journal)], self.run_dir, env=self.env, wait_port=self.port
        )

    def kill(self) -> None:
        kill(self.pid)

    def stop(self) -> None:
        processes.stop("aws", self.run_dir)


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    port = free_port()
    monkeypatch.setenv("AWS_EMULATOR_PORT", str(port))
    env = local_env(tmp_path / "airflow")  # endpoint, credentials and region as the local stack sets them
    env.pop(JOURNAL_ENV, None)  # the journal is the one given on the command line
    server = Emulator(tmp_path, env, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def client(service: str, env: dict[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def stream_event_ids(kinesis: Any, stream: str) -> Counter[str]:
    """EVENT_ID -> copies, over every record of every shard from TRIM_HORIZON."""
    found: Counter[str] = Counter()
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while records := (response := kinesis.get_records(ShardIterator=iterator, Limit=10_000))["Records"]:
            found.update(json.loads(r["Data"])["EVENT_ID"] for r in records)
            iterator = response["NextShardIterator"]
    return found


def landed_event_ids(s3: Any, bucket: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="landing/"):
        for item in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            found.update(json.loads(line)["EVENT_ID"] for line in body.splitlines() if line)
    return found


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("max_attempts", "outcome"),
    [
        (1, "spooled"),  # one try per batch: what the outage refuses goes to the spool
        (12, "retried"),  # the producer's backoff sleeps total at least ~15 s: its retries outlast the outage
    ],
)
def test_killed_and_restarted_mid_stream_loses_nothing(
    emulator: Emulator, tmp_path: Path, max_attempts: int, outcome: str
) -> None:
    started = time.monotonic()
    config = config_dict()
    config["stream"]["shard_count"] = 2
    config_dir = write_config(tmp_path / "config", config)  # the test's own names; the other files as they are
    for other in (REPO / "config").glob("*.json"):
        if other.name != "aws.json":
            shutil.copy(other, config_dir)
    env = {
        **emulator.env,
        "PIPELINE_CONFIG_DIR": str(config_dir),
        "FIREHOSE_STATE_DIR": str(tmp_path / "firehose"),
    }
    stream, bucket = config["stream"]["name"], config["bucket"]
    provisioned = run(["-m", "aws_infrastructure", "up"], env)
    assert provisioned.returncode == 0, provisioned.stderr
    seeded = ["--events", str(EVENTS), "--seed", str(SEED), "--timestamps", "seed"]  # reproducible: same ids
    same_events = run(["-m", "data_generation", "--sink", "stdout", *seeded], env)
    expected = {json.loads(line)["EVENT_ID"] for line in same_events.stdout.splitlines()}
    assert len(expected) == EVENTS

    report_path, spool = tmp_path / "report.json", tmp_path / "spool.ndjson"
    generate = ["--sink", "kinesis", "--stream", stream, *seeded]
    generate += ["--rate", str(RATE), "--max-attempts", str(max_attempts), "--spool", str(spool)]
    generate += ["--report-json", str(report_path), "--quiet"]
    generator = subprocess.Popen([sys.executable, "-m", "data_generation", *generate], cwd=REPO, env=env)
    deliver = [sys.executable, "-m", "local_stack", "firehose", "--poll-seconds", "0.05"]
    firehose_pid = processes.start("firehose", deliver, emulator.run_dir, env=env)
    checkpoints = tmp_path / "firehose"
    kinesis, s3 = client("kinesis", env), client("s3", env)
    try:
        deadline = time.monotonic() + 60
        while sum((before_kill := stream_event_ids(kinesis, stream)).values()) < EVENTS // 4 or not any(
            checkpoints.glob("*.checkpoint.json")
        ):
            assert generator.poll() is None and time.monotonic() < deadline, "the generator did not get going"
            time.sleep(0.1)
        emulator.kill()  # mid-stream: the generator has sent about a quarter of its events
        kill(firehose_pid)  # and the delivery with it, so that it starts again from its checkpoint
        time.sleep(OUTAGE_SECONDS)
        assert generator.poll() is None, "the generator finished during the outage: the kill was not mid-stream"
        emulator.start()
        processes.start("firehose", deliver, emulator.run_dir, env=env)
        exit_code = generator.wait(timeout=120)

        report = json.loads(report_path.read_text())
        spooled = report["spooled"]
        if outcome == "spooled":  # retries ran out during the outage: the spool holds what was not confirmed
            assert exit_code == 1 and spooled > 0 and spool.exists(), json.dumps(report)
            replayed = run(["-m", "data_generation", "replay-spool", str(spool), "--quiet"], env)
            assert replayed.returncode == 0, replayed.stderr
        else:
            assert exit_code == 0 and spooled == 0 and report["retried"] > 0, report

        after = stream_event_ids(kinesis, stream)
        assert set(before_kill) <= set(after), "records acknowledged before the kill are gone: no journal replay"
        assert set(after) == expected, f"lost {len(expected - set(after))}, unexpected {len(set(after) - expected)}"
        duplicated = sum(after.values()) - len(after)

        # The local Firehose ran through the restart: S3 ends up holding every event too.
        deadline = time.monotonic() + 60
        while set(landed := landed_event_ids(s3, bucket)) != expected:
            assert time.monotonic() < deadline, f"S3 lacks {len(expected - set(landed))} events after the restart"
            time.sleep(0.5)
        firehose_log = (emulator.run_dir / "firehose.log").read_text(errors="replace")
    finally:
        if generator.poll() is None:
            generator.kill()
            generator.wait()
        processes.stop("firehose", emulator.run_dir)

    replayed = [int(n.replace(",", "")) for n in re.findall(r"replayed ([\d,]+) requests in", emulator.log)]
    assert len(replayed) == 2 and replayed[0] == 0 and replayed[1] > 0, emulator.log[-2000:]  # fresh, then restarted
    assert "replayed requests failed" not in emulator.log, emulator.log[-2000:]
    # The journal pins moto's clock, so the replayed stream keeps its creation time and the restarted delivery
    # its checkpoint (a stream with another creation time would make it start afresh from the oldest record).
    notes = [line for line in firehose_log.splitlines() if "checkpoint" in line and "wrote" not in line]
    assert "no checkpoint at" in notes[0] and "resuming from checkpoint" in notes[-1], "\n".join(notes)
    print(
        f"\nemulator down {OUTAGE_SECONDS:.1f}s with {sum(before_kill.values())} records in the stream; "
        f"generator exit {exit_code}, retried {report['retried']}, spooled {spooled}; "
        f"stream: {len(after)} events, {duplicated} duplicates; S3: {len(landed)} events, "
        f"{sum(landed.values()) - len(landed)} duplicates; {replayed[1]} requests replayed at restart; "
        f"{time.monotonic() - started:.1f}s"
    )


def _put(emulator: Emulator, count: int) -> None:
    kinesis = client("kinesis", emulator.env)
    kinesis.create_stream(StreamName="journal-test", ShardCount=1)
    kinesis.put_records(
        StreamName="journal-test", Records=[{"Data": f"{n}".encode(), "PartitionKey": "k"} for n in range(count)]
    )


def _stream_data(emulator: Emulator) -> list[str]:
    kinesis = client("kinesis", emulator.env)
    iterator = kinesis.get_shard_iterator(
        StreamName="journal-test", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [r["Data"].decode() for r in kinesis.get_records(ShardIterator=iterator)["Records"]]


@pytest.mark.parametrize("tail", [b'{"time":"2026-01-01T00:00:00","method":"POST","pa', b"\n"])
def test_a_torn_last_line_is_dropped_and_the_rest_replayed(emulator: Emulator, tail: bytes) -> None:
    _put(emulator, 3)
    journal = emulator.journal.read_bytes()
    assert journal.count(b"\n") == 2  # CreateStream, PutRecords; the reads are not journaled
    emulator.kill()
    if tail == b"\n":  # the last line complete but for its newline: kept
        emulator.journal.write_bytes(journal[:-1])
    else:  # killed part-way through appending a line: dropped
        emulator.journal.write_bytes(journal + tail)
    emulator.start()
    assert emulator.journal.read_bytes() == journal
    assert _stream_data(emulator) == ["0", "1", "2"]
    assert ("dropped a torn last line" in emulator.log) == (tail != b"\n")
    assert "replayed 2 requests" in emulator.log


def test_a_damaged_line_before_the_last_stops_the_start(emulator: Emulator) -> None:
    _put(emulator, 1)
    emulator.kill()
    emulator.journal.write_bytes(b"not json\n" + emulator.journal.read_bytes())
    with pytest.raises(processes.StartError, match="not a journal line; move the file away"):
        emulator.start()
