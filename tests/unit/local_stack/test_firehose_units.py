"""The local delivery's parts that need no emulator: framing, buffering policy, shard order, checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from local_stack.firehose.batch import Batch, frame
from local_stack.firehose.checkpoint import Checkpoint
from local_stack.firehose.shards import ShardTracker
from local_stack.firehose.target import DeliveryTarget


def record(data: bytes, sequence: str = "1") -> dict[str, object]:
    return {
        "Data": data,
        "SequenceNumber": sequence,
        "PartitionKey": "k",
        "ApproximateArrivalTimestamp": datetime(2024, 1, 1, tzinfo=UTC),
    }


def test_frame_appends_the_delimiter_to_the_bytes_as_they_came() -> None:
    for data in [b'{"a":1}', b'{"a":1}\n', b"", b"a\nb", b"a\rb", b"\xff"]:
        assert frame(data, True) == data + b"\n"
    assert frame(b"abc", False) == b"abc"


def test_batch_keeps_every_record_and_its_last_sequence_per_shard() -> None:
    batch = Batch()
    batch.add(record(b'{"ok":1}', "1"), "shard-0", True, 0.0)
    batch.add(record(b"bad\nrecord", "2"), "shard-0", True, 0.0)
    batch.add(record(b"\xff", "7"), "shard-1", True, 0.0)
    assert batch.lines == [b'{"ok":1}\n', b"bad\nrecord\n", b"\xff\n"]
    assert batch.size == 9 + 11 + 2
    assert batch.upto == {"shard-0": "2", "shard-1": "7"}


def test_batch_is_due_by_size_or_by_age_whichever_first() -> None:
    batch = Batch()
    assert not batch.due(100.0, 10, 60)
    batch.add(record(b"12345"), "s", True, now=100.0)
    assert not batch.due(159.9, 10, 60)
    assert batch.due(160.0, 10, 60)
    batch.add(record(b"6789", "2"), "s", True, now=101.0)
    assert batch.size == 11 and batch.due(101.0, 10, 60)
    assert Batch(started=None).seconds_until_due(5.0, 60) is None


def shard(shard_id: str, parent: str | None = None, ending: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"ShardId": shard_id, "SequenceNumberRange": {"StartingSequenceNumber": "0"}}
    if parent:
        entry["ParentShardId"] = parent
    if ending:
        entry["SequenceNumberRange"] = {"StartingSequenceNumber": "0", "EndingSequenceNumber": ending}
    return entry


def test_children_are_read_only_after_their_parent_reaches_its_end(tmp_path: Path) -> None:
    tracker = ShardTracker(Checkpoint(tmp_path / "c.json", "d", "arn", "t"))
    tracker.refresh([shard("p", ending="10"), shard("c1", "p"), shard("c2", "p")])
    assert [s.shard_id for s in tracker.readable()] == ["p"]
    tracker.shards["p"].position = "10"
    tracker.shards["p"].at_end = True
    assert [s.shard_id for s in tracker.readable()] == ["c1", "c2"]


def test_a_finished_shard_whose_end_moves_is_read_again(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "c.json", "d", "arn", "t")
    checkpoint.mark("p").sequence = "10"
    checkpoint.mark("p").finished_ending = "10"
    tracker = ShardTracker(checkpoint)
    tracker.refresh([shard("p", ending="10"), shard("c", "p")])
    assert [s.shard_id for s in tracker.readable()] == ["c"]
    tracker.refresh([shard("p", ending="12"), shard("c", "p")])
    assert [s.shard_id for s in tracker.readable()] == ["p"]


def test_expired_parent_does_not_block_children(tmp_path: Path) -> None:
    tracker = ShardTracker(Checkpoint(tmp_path / "c.json", "d", "arn", "t"))
    tracker.refresh([shard("c", "gone")])
    assert [s.shard_id for s in tracker.readable()] == ["c"]


def test_checkpoint_round_trip_and_stream_identity(tmp_path: Path) -> None:
    path = tmp_path / "state" / "d.checkpoint.json"
    checkpoint, note = Checkpoint.load(path, "d", "arn:1", "2024-01-01")
    assert "no checkpoint" in note
    checkpoint.mark("shard-0").sequence = "42"
    checkpoint.save()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    again, note = Checkpoint.load(path, "d", "arn:1", "2024-01-01")
    assert again.shards["shard-0"].sequence == "42" and "resuming" in note
    recreated, note = Checkpoint.load(path, "d", "arn:1", "2024-02-02")
    assert recreated.shards == {} and "another stream" in note


def test_target_reads_everything_from_the_description() -> None:
    description = {
        "DeliveryStreamName": "d",
        "DeliveryStreamType": "KinesisStreamAsSource",
        "VersionId": "4",
        "Source": {"KinesisStreamSourceDescription": {"KinesisStreamARN": "arn:aws:kinesis:r:1:stream/s"}},
        "Destinations": [
            {
                "ExtendedS3DestinationDescription": {
                    "BucketARN": "arn:aws:s3:::my-bucket",
                    "Prefix": "raw/",
                    "CompressionFormat": "UNCOMPRESSED",
                    "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 30},
                }
            }
        ],
    }
    target = DeliveryTarget.from_description(description)
    assert (target.bucket, target.version, target.extension) == ("my-bucket", "4", "")
    assert target.buffer_bytes == 2 * 1024 * 1024 and target.buffer_seconds == 30
    assert target.prefix.startswith("raw/!{timestamp:yyyy}/") and not target.newline_delimited
