"""`mobile-events-generate` into Kinesis on a real moto server: exact reports, signals, errors, exit codes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mobile_events_elt.data_generation.cli import main
from mobile_events_elt.data_generation.generator import EventGenerator
from mobile_events_elt.data_generation.producer import stream_shards
from mobile_events_elt.data_generation.simulation import plan_producers, run_producer
from mobile_events_elt.local_stack.ports import free_port
from tests.support.contract import problems
from tests.support.kinesis import generate_command, make_stream, stream_records, wait_for_records

REPO = Path(__file__).resolve().parents[3]


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def test_the_report_matches_what_landed_in_the_stream(kinesis: Any, tmp_path: Path) -> None:
    stream = make_stream(kinesis)
    report_path = tmp_path / "report.json"
    faults = ["--duplicate-rate", "0.05", "--malformed-rate", "0.05", "--late-rate", "0.05"]
    args = ["--stream", stream, "--events", "3000", "--seed", "5", *faults, "--report-json", str(report_path), "-q"]
    assert main(args) == 0
    report = json.loads(report_path.read_text())
    landed = stream_records(kinesis, stream)
    valid = [(json.loads(data), key) for data, key in landed if not problems(data)]
    ids = Counter(record["EVENT_ID"] for record, _ in valid)
    assert report["sent"] == report["generated"] == len(landed)
    assert report["unique_events"] == len(ids) == 3000
    assert report["duplicates"] == sum(ids.values()) - len(ids) > 50
    assert report["malformed"] == len(landed) - len(valid) > 50
    assert report["late"] > 50 and report["exit_code"] == 0 and report["target"] == stream
    assert all(record["USER_ID"] == key for record, key in valid)
    assert all("\n" not in data for data, _ in landed), "one line per record; the delivery stream adds the newline"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_after_delivering_what_was_buffered(
    kinesis: Any, tmp_path: Path, signum: int, code: int
) -> None:
    stream = make_stream(kinesis)
    report_path = tmp_path / "report.json"
    command = generate_command("--stream", stream, "--rate", "400", "--duration", "120", "--seed", "21")
    command += ["--timestamps", "seed", "--report-json", str(report_path), "--quiet"]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_records(kinesis, stream, 300, process, within=60)
        process.send_signal(signum)
        assert process.wait(timeout=60) == code
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    report = json.loads(report_path.read_text())
    landed = [data for data, _ in stream_records(kinesis, stream)]
    assert report["interrupted"] is True and report["exit_code"] == code
    assert report["generated"] == report["sent"] == report["unique_events"] == len(landed)
    # What landed is the seed's event sequence with no gap: nothing made was dropped on the way out.
    assert landed == [line for line, _, _ in itertools.islice(EventGenerator(seed=21), len(landed))]


def test_shard_limit_reads_the_streams_shard_count_and_delivers_everything(kinesis: Any, tmp_path: Path) -> None:
    stream = make_stream(kinesis, shards=2)
    assert stream_shards(kinesis, stream) == 2
    report_path = tmp_path / "report.json"
    assert main(["--stream", stream, "--events", "2500", "--shard-limit", "--report-json", str(report_path), "-q"]) == 0
    assert json.loads(report_path.read_text())["sent"] == len(stream_records(kinesis, stream)) == 2500


def test_an_unknown_stream_is_a_usage_error_naming_the_fix(kinesis: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _main(["--stream", "no-such-stream", "--events", "5"], capsys)
    assert code == 2
    assert "Kinesis stream 'no-such-stream' not found at http://127.0.0.1:" in err
    assert "--stream NAME" in err


def _cli_env(**changes: str | None) -> dict[str, str]:
    env = {**os.environ, **{k: v for k, v in changes.items() if v is not None}}
    for key in [k for k, v in changes.items() if v is None]:
        env.pop(key, None)
    return env


def test_an_unreachable_endpoint_or_missing_credentials_exit_2_with_a_hint(aws_endpoint: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    down = subprocess.run(
        generate_command("--events", "5"),
        cwd=REPO,
        env=_cli_env(AWS_ENDPOINT_URL=closed),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert down.returncode == 2
    assert f"cannot reach Kinesis at {closed}" in down.stderr.decode() and "make up" in down.stderr.decode()
    anonymous = subprocess.run(
        generate_command("--events", "5"),
        cwd=REPO,
        env=_cli_env(
            AWS_ACCESS_KEY_ID=None,
            AWS_SECRET_ACCESS_KEY=None,
            AWS_SESSION_TOKEN=None,
            AWS_PROFILE=None,
            AWS_SHARED_CREDENTIALS_FILE=str(REPO / "no-such-credentials"),
            AWS_CONFIG_FILE=str(REPO / "no-such-config"),
            AWS_EC2_METADATA_DISABLED="true",
        ),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert anonymous.returncode == 2
    assert "no AWS credentials found" in anonymous.stderr.decode()


def test_replay_exits_1_when_records_still_fail_and_2_on_a_bad_spool(
    kinesis: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = make_stream(kinesis)
    spool = tmp_path / "spool.ndjson"
    entries = [
        {"stream": stream, "partition_key": "k1", "kind": "event", "data": json.dumps({"ok": 1})},
        {"stream": stream, "partition_key": "k2", "kind": "malformed:broken_json", "data": "x" * (1024 * 1024 + 1)},
    ]
    spool.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    again = tmp_path / "again.ndjson"
    code, err = _main(
        ["replay-spool", str(spool), "--spool", str(again), "--report-json", str(tmp_path / "r.json")], capsys
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 1
    assert (report["sent"], report["unique_events"], report["failed"], report["spooled"]) == (1, 1, 1, 1)
    assert f"mobile-events-generate replay-spool {again}" in err
    assert [data for data, _ in stream_records(kinesis, stream)] == ['{"ok": 1}']

    broken = tmp_path / "broken.ndjson"
    broken.write_text(json.dumps(entries[0]) + "\n" + '{"stream": "s", "data": 5}\n')
    code, err = _main(["replay-spool", str(broken)], capsys)
    assert code == 2
    assert f"{broken}:2: not a spool entry" in err
    assert broken.exists(), "a spool that was not replayed keeps its name"


def test_the_airflow_task_entry_points_send_and_return_the_report(kinesis: Any) -> None:
    stream = make_stream(kinesis)
    (part,) = plan_producers({"events": 400, "stream": stream, "seed": 3, "malformed_rate": 0.1, "rate": 0})
    report = run_producer(part)
    assert report["exit_code"] == 0 and report["target"] == stream and report["seed"] == 3
    assert report["unique_events"] == 400 and report["sent"] == 400 + report["malformed"]
    assert len(stream_records(kinesis, stream)) == report["sent"]
    for params in ({"events": 10, "late_rate": 7}, {"producers": 65}, {"producers": 3, "users": 2}):
        with pytest.raises(ValueError, match="invalid event_simulation params"):
            plan_producers({**params, "stream": stream})
