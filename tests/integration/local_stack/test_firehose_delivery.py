"""The local Firehose delivery against the real moto server: Kinesis records become S3 objects as Firehose
would write them, exactly where the delivery stream's description says, and nothing is lost on a crash."""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from aws_infrastructure.cli import main
from local_stack.firehose import deliver
from tests.support.firehose import configure, lines, objects, provision, put_events, quiet, wait_for
from tests.unit.aws_infrastructure.test_aws_settings import config_dict

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def stack(aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return provision(tmp_path, monkeypatch, interval_seconds=60)


def test_events_land_under_the_expanded_prefix_as_gzipped_ndjson_in_order(stack: dict[str, Any]) -> None:
    events = put_events(stack["stream"]["name"], 2000)
    before = datetime.now(UTC).replace(microsecond=0)
    report = deliver(once=True, log=quiet)
    after = datetime.now(UTC)

    assert report.records_delivered == 2000
    assert report.millis_behind_latest == 0
    landed = objects(stack["bucket"], "landing/")
    assert list(landed) == report.objects and len(landed) == 1  # 60 s / 1 MiB buffer: one object at the end
    key, body = next(iter(landed.items()))
    name = stack["firehose"]["name"]
    match = re.fullmatch(
        rf"landing/year=(\d{{4}})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/{name}-1-"
        rf"(\d{{4}})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-[0-9a-f-]{{36}}\.gz",
        key,
    )
    assert match, key
    written = datetime(*map(int, match.groups()[4:]), tzinfo=UTC)
    assert match.groups()[:4] == (f"{written:%Y}", f"{written:%m}", f"{written:%d}", f"{written:%H}")
    assert before <= written <= after

    delivered = lines(body)
    assert sorted(e["id"] for e in delivered) == [e["id"] for e in events]
    per_key: dict[str, list[int]] = defaultdict(list)
    for event in delivered:
        per_key[event["key"]].append(event["n"])
    assert all(numbers == sorted(numbers) for numbers in per_key.values())
    assert len({e["shard"] for e in events}) == 2  # both shards were read


def test_buffer_size_splits_objects(stack: dict[str, Any]) -> None:
    put_events(stack["stream"]["name"], 6000, pad=500)  # about 3.2 MiB of lines
    report = deliver(once=True, log=quiet)
    landed = objects(stack["bucket"], "landing/")
    sizes = sorted(len(gzip.decompress(body)) for body in landed.values())
    assert len(landed) == len(report.objects) >= 3
    assert all(size >= 1024 * 1024 for size in sizes[1:])  # all but the last flush reached the size hint
    ids = [e["id"] for body in landed.values() for e in lines(body)]
    assert sorted(ids) == list(range(6000))


def test_records_land_as_they_came_whatever_bytes_they_hold(stack: dict[str, Any]) -> None:
    """Without a transformation Lambda, Firehose rejects nothing: the AppendDelimiterToRecord processor
    appends a newline to each record and leaves its bytes alone (Firehose API reference, "Processor"), so
    empty, multi-line and non-UTF-8 records arrive inside the ordinary landing object and the error output
    stays empty (Firehose writes there only for Lambda, format-conversion and partitioning failures)."""
    stream = stack["stream"]["name"]
    good = put_events(stream, 10)
    bad = [b'{"pretty":\n true}', b"\xff\xfe not utf-8", b"   ", b"a\r\nb", b'{"ends": "with newline"}\n']
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    for data in bad:
        kinesis.put_record(StreamName=stream, Data=data, PartitionKey="bad")
    report = deliver(once=True, log=quiet)

    assert report.records_delivered == 10 + len(bad)
    assert objects(stack["bucket"], "errors/") == {}
    (body,) = objects(stack["bucket"], "landing/").values()
    text = gzip.decompress(body)
    for data in bad:
        assert data + b"\n" in text
    sent = [json.dumps({k: e[k] for k in ("id", "key", "n", "pad")}).encode() for e in good] + bad
    assert len(text) == sum(len(data) + 1 for data in sent)


def test_the_command_says_how_to_create_a_missing_delivery_stream(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from local_stack.__main__ import main as local_stack_main

    configure(tmp_path, monkeypatch, config_dict())
    code = local_stack_main(["firehose", "--once", "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and "python -m aws_infrastructure up" in err


def test_a_delivery_stream_with_a_transformation_is_refused(stack: dict[str, Any]) -> None:
    """The local delivery runs no Lambda, so it refuses a delivery stream that has one (moto keeps the
    ProcessingConfiguration it is given) instead of delivering records the Lambda would have changed."""
    firehose = boto3.client("firehose", region_name="us-east-1")
    name = stack["firehose"]["name"]
    described = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:transform"
    firehose.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId=described["VersionId"],
        DestinationId=described["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": lambda_arn}]}
                ],
            }
        },
    )
    from local_stack.__main__ import main as local_stack_main

    assert local_stack_main(["firehose", "--once"]) == 2


def test_a_second_run_resumes_after_the_checkpoint(stack: dict[str, Any], tmp_path: Path) -> None:
    stream = stack["stream"]["name"]
    first = put_events(stream, 300)
    assert deliver(once=True, log=quiet).records_delivered == 300
    assert deliver(once=True, log=quiet).records_delivered == 0
    second = put_events(stream, 200, start=300)
    report = deliver(once=True, log=quiet)
    assert report.records_delivered == 200
    saved = json.loads(next((tmp_path / "state").glob("*.checkpoint.json")).read_text())
    assert report.positions == {shard: mark["sequence"] for shard, mark in saved["shards"].items()}
    assert all(int(report.positions[e["shard"]]) >= int(e["sequence"]) for e in second)
    ids = [e["id"] for body in objects(stack["bucket"], "landing/").values() for e in lines(body)]
    assert sorted(ids) == [e["id"] for e in first + second]


def test_stream_recreated_under_the_same_name_starts_afresh(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    put_events(stack["stream"]["name"], 100)
    assert deliver(once=True, log=quiet).records_delivered == 100
    assert main(["down", "--force"]) == 0
    assert main(["up"]) == 0
    put_events(stack["stream"]["name"], 40)
    notes: list[str] = []
    assert deliver(once=True, log=notes.append).records_delivered == 40
    assert any("another stream" in note for note in notes)


def test_a_destination_change_acts_on_the_delivery(
    stack: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = json.loads(json.dumps(stack))
    changed["firehose"]["compression"] = "UNCOMPRESSED"
    changed["firehose"]["prefix"] = "landing/v2/dt=!{timestamp:yyyy-MM-dd}/"
    configure(tmp_path, monkeypatch, changed)
    assert main(["up"]) == 0
    put_events(stack["stream"]["name"], 50)
    report = deliver(once=True, log=quiet)
    (key,) = report.objects
    name = stack["firehose"]["name"]
    assert re.fullmatch(rf"landing/v2/dt={datetime.now(UTC):%Y-%m-%d}/{name}-2-[-0-9]{{19}}-[0-9a-f-]{{36}}", key), key
    body = objects(stack["bucket"], key)[key]
    assert sorted(json.loads(line)["id"] for line in body.decode().splitlines()) == list(range(50))


def test_resharding_is_followed_parents_before_children(
    stack: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = stack["stream"]["name"]
    first = put_events(stream, 400)
    run1 = deliver(once=True, log=quiet)
    resharded = json.loads(json.dumps(stack))
    resharded["stream"]["shard_count"] = 4
    configure(tmp_path, monkeypatch, resharded)
    assert main(["up"]) == 0
    second = put_events(stream, 400, start=400)
    run2 = deliver(once=True, log=quiet)

    assert (run1.records_delivered, run2.records_delivered) == (400, 400)
    landed = objects(stack["bucket"], "landing/")
    in_write_order = [e for key in run1.objects + run2.objects for e in lines(landed[key])]
    assert sorted(e["id"] for e in in_write_order) == [e["id"] for e in first + second]
    per_key: dict[str, list[int]] = defaultdict(list)
    for event in in_write_order:
        per_key[event["key"]].append(event["n"])
    assert all(numbers == sorted(numbers) for numbers in per_key.values())

    shards = boto3.client("kinesis", region_name="us-east-1").list_shards(StreamName=stream)["Shards"]
    closed = {
        s["ShardId"]: s["SequenceNumberRange"]["EndingSequenceNumber"] for s in shards if "ParentShardId" not in s
    }
    children = {s["ShardId"] for s in shards if "ParentShardId" in s}
    assert len(closed) == 2 and len(children) == 4
    saved = json.loads(next((tmp_path / "state").glob("*.checkpoint.json")).read_text())["shards"]
    assert set(saved) == set(closed) | children
    assert all(saved[parent]["finished_ending"] == ending for parent, ending in closed.items())


def test_the_service_waits_for_its_delivery_stream_and_then_delivers(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = config_dict()
    data["firehose"]["buffering"] = {"size_mib": 1, "interval_seconds": 0}
    configure(tmp_path, monkeypatch, data)
    monkeypatch.setenv("FIREHOSE_STATE_DIR", str(tmp_path / "state"))
    notes: list[str] = []
    stop = threading.Event()
    reports: list[Any] = []
    service = threading.Thread(target=lambda: reports.append(deliver(poll_seconds=0.05, stop=stop, log=notes.append)))
    service.start()
    try:
        wait_for(lambda: any("does not exist" in note for note in notes), "the missing delivery stream to be noticed")
        assert main(["up"]) == 0
        put_events(data["stream"]["name"], 120)
        wait_for(lambda: len(objects(data["bucket"], "landing/")) > 0, "the first object")
    finally:
        stop.set()
        service.join(timeout=60)
    assert not service.is_alive()
    delivered = [e["id"] for body in objects(data["bucket"], "landing/").values() for e in lines(body)]
    assert sorted(delivered) == list(range(120))
    assert reports and reports[0].records_delivered == 120
