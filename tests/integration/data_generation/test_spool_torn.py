"""Torn spool files: half a line left by a kill or a full disk mid-write never costs the good records.

The spool files are written by the real ``Spool`` and torn the way a cut-short append tears them (the
file ends part-way through a line); the replays send into a real moto stream. The full disk is the
kernel's own: a file-size limit (RLIMIT_FSIZE) makes the write fail part-way in a child process.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mobile_events_elt.config import ConfigError
from mobile_events_elt.data_generation.cli import build_replay_parser, main
from mobile_events_elt.data_generation.pipeline import StopFlag
from mobile_events_elt.data_generation.producer import KinesisProducer
from mobile_events_elt.data_generation.replay import CHECKPOINT_EVERY, replay_spool
from mobile_events_elt.data_generation.report import Report
from tests.support.kinesis import FaultyKinesis, stream_records
from tests.support.spool import records, spool_file, tear

REPO = Path(__file__).resolve().parents[3]


def test_a_torn_tail_is_set_aside_and_the_good_records_are_sent(kinesis: Any, stream: str, tmp_path: Path) -> None:
    sent = records(700)
    path = spool_file(tmp_path / "s.ndjson", stream, [sent[:500], sent[500:]])
    half = tear(path, stream, records(701)[700])
    report = replay_spool(path, KinesisProducer(stream, spool_path=tmp_path / "again.ndjson"))
    assert [data for data, _ in stream_records(kinesis, stream)] == [line for line, _, _ in sent]
    assert (report.sent, report.failed, report.generated, report.torn_lines) == (700, 0, 700, [701])
    assert report.torn_path == tmp_path / "s.ndjson.torn" and report.torn_path.read_bytes() == half + b"\n"
    assert not report.ok, "set-aside lines need a person: the run is not clean"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ndjson.replayed", "s.ndjson.torn"]


def test_a_line_torn_mid_file_is_set_aside_and_the_records_after_it_are_sent(
    kinesis: Any,
    stream: str,
    tmp_path: Path,
) -> None:
    """A producer killed mid-write, then a later run appending to the same --spool file."""
    first, second = records(30), records(20, seed=6)
    path = spool_file(tmp_path / "s.ndjson", stream, [first])
    half = tear(path, stream, records(31)[30])
    spool_file(path, stream, [second])
    report = replay_spool(path, KinesisProducer(stream, spool_path=tmp_path / "again.ndjson"))
    assert [data for data, _ in stream_records(kinesis, stream)] == [line for line, _, _ in first + second]
    assert (report.sent, report.torn_lines) == (50, [31])
    assert (tmp_path / "s.ndjson.torn").read_bytes() == half + b"\n"


class Killed(BaseException):
    """The process dying where it stands (kill -9, power cut): nothing catches it, nothing cleans up."""


@pytest.mark.parametrize(
    ("kinesis_took_it", "sent_twice"),
    [
        (False, 0),  # killed with a batch in hand: nothing is sent twice
        (True, CHECKPOINT_EVERY),  # killed after Kinesis took a batch but before it answered: that batch only
    ],
)
def test_a_replay_killed_outright_resumes_at_its_checkpoint(
    kinesis: Any,
    stream: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kinesis_took_it: bool,
    sent_twice: int,
) -> None:
    sent = records(1300)
    path = spool_file(tmp_path / "s.ndjson", stream, [sent])
    tear(path, stream, records(1301)[1300])
    calls = 0

    def second_call_dies(record: dict) -> str | None:
        nonlocal calls
        calls += 1
        if calls == CHECKPOINT_EVERY + 1:  # the first record of the second PutRecords call
            if kinesis_took_it:
                kinesis.put_records(StreamName=stream, Records=client.calls[-1])
            raise Killed
        return None

    client = FaultyKinesis(kinesis, second_call_dies)
    with pytest.raises(Killed):
        replay_spool(path, KinesisProducer(stream, client=client, spool_path=tmp_path / "first.ndjson"))
    assert path.exists() and (tmp_path / "s.ndjson.replaying").exists()

    code = main(["replay-spool", str(path), "--spool", str(tmp_path / "second.ndjson")])
    err = capsys.readouterr().err
    assert code == 1, err  # all sent, but the torn line waits for a person
    assert f"resuming: a killed replay of {path} already handed over its first {CHECKPOINT_EVERY:,} records" in err
    assert f"sent {1300 - CHECKPOINT_EVERY:,} records" in err
    landed = Counter(data for data, _ in stream_records(kinesis, stream))
    assert set(landed) == {line for line, _, _ in sent}
    assert sum(landed.values()) == 1300 + sent_twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ndjson.replayed", "s.ndjson.torn"]


class DiesWhileClosing(KinesisProducer):
    """A producer whose process is killed outright after the rest was spooled, before the file is renamed."""

    def close(self) -> Report:
        self.spool.close()
        raise Killed


@pytest.mark.parametrize("killed_before_the_rename", [False, True])
def test_a_stopped_replay_spools_the_rest_once_and_sets_the_torn_tail_aside_once(
    kinesis: Any, stream: str, tmp_path: Path, killed_before_the_rename: bool
) -> None:
    sent = records(900)
    path = spool_file(tmp_path / "s.ndjson", stream, [sent])
    tear(path, stream, records(901)[900])
    stop = StopFlag()
    producer = (DiesWhileClosing if killed_before_the_rename else KinesisProducer)(
        stream,
        spool_path=tmp_path / "rest.ndjson",
        on_delivered=lambda *_: stop.requested or stop.request(signal.SIGTERM),
    )
    if killed_before_the_rename:  # run again: its checkpoint says everything was delivered or spooled
        with pytest.raises(Killed):
            replay_spool(path, producer, stop=stop)
        first = replay_spool(path, KinesisProducer(stream, spool_path=tmp_path / "none.ndjson"))
        assert (first.sent, first.generated, first.torn_lines) == (0, 0, [901])
    else:
        first = replay_spool(path, producer, stop=stop)  # SIGTERM as the first batch is confirmed
        assert first.interrupted and (first.sent, first.spooled, first.torn_lines) == (500, 400, [901])
    second = replay_spool(tmp_path / "rest.ndjson", KinesisProducer(stream, spool_path=tmp_path / "x.ndjson"))
    assert (second.sent, second.torn_lines) == (400, [])
    assert [data for data, _ in stream_records(kinesis, stream)] == [line for line, _, _ in sent]
    assert len((tmp_path / "s.ndjson.torn").read_bytes().splitlines()) == 1
    assert not (tmp_path / "none.ndjson").exists() and (tmp_path / "s.ndjson.replayed").exists()


def test_the_cli_reports_a_torn_file_with_exit_1_and_where_the_torn_lines_went(
    kinesis: Any,
    stream: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = spool_file(tmp_path / "s.ndjson", stream, [records(3)])
    tear(path, stream, records(4)[3])
    code = main(["replay-spool", str(path), "--report-json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == report["exit_code"] == 1
    assert (report["sent"], report["torn"], report["torn_lines"]) == (3, 1, [4])
    assert report["torn_path"] == str(tmp_path / "s.ndjson.torn")
    assert f"torn 1: line(s) 4 of the spool file were cut short mid-write; set aside in {tmp_path}/s.ndjson.torn" in err

    only_torn = tmp_path / "t.ndjson"
    tear(only_torn, stream, records(1)[0])
    assert main(["replay-spool", str(only_torn)]) == 2
    assert f"{only_torn}: the spool file holds no records, only 1 torn lines" in capsys.readouterr().err
    assert not (tmp_path / "t.ndjson.torn").exists() and only_torn.exists(), "nothing set aside, nothing renamed"

    help_text = build_replay_parser().format_help()
    assert "PATH.torn" in help_text and "PATH.replaying" in help_text and "torn lines set aside" in help_text


def test_a_checkpoint_that_does_not_fit_the_file_stops_the_replay_before_anything_is_sent(
    kinesis: Any,
    stream: str,
    tmp_path: Path,
) -> None:
    path = spool_file(tmp_path / "s.ndjson", stream, [records(10)])
    (tmp_path / "s.ndjson.replaying").write_text(json.dumps({"offset": 7, "records": 1}))
    with pytest.raises(ConfigError, match="delete the checkpoint to replay it from the start"):
        replay_spool(path, KinesisProducer(stream, spool_path=tmp_path / "again.ndjson"))
    assert stream_records(kinesis, stream) == [] and path.exists()
