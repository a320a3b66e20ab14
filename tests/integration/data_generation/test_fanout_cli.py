"""`mobile-events-generate --producers N` on the Kinesis emulator: N processes, one summed report, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Any

import boto3
import pytest

from tests.support.kinesis import generate_command, make_stream, stream_records, wait_for_records
from tests.support.paths import REPO

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_the_cli_sends_through_n_processes_and_sums_their_reports(aws_endpoint: str, tmp_path: Any) -> None:
    from mobile_events_elt.data_generation.cli import main
    from tests.support.contract import problems

    kinesis = boto3.client("kinesis")
    stream = make_stream(kinesis, shards=3)
    report_path = tmp_path / "report.json"
    faults = ["--duplicate-rate", "0.03", "--malformed-rate", "0.03", "--late-rate", "0.03"]
    args = ["--stream", stream, "--events", "3001", "--producers", "3", "--users", "300", "--seed", "4", *faults]
    assert main([*args, "--report-json", str(report_path), "-q"]) == 0
    report = json.loads(report_path.read_text())
    landed = [data for data, _ in stream_records(kinesis, stream)]
    valid = [json.loads(line) for line in landed if not problems(line)]
    ids = Counter(r["EVENT_ID"] for r in valid)
    assert report["producers"] == 3 and [part["producer"] for part in report["parts"]] == [0, 1, 2]
    assert report["sent"] == report["generated"] == len(landed)
    assert report["unique_events"] == len(ids) == 3001
    assert report["duplicates"] == sum(ids.values()) - len(ids) > 0
    assert report["malformed"] == len(landed) - len(valid) > 0
    assert report["exit_code"] == 0 and report["timestamps"] == "live" and report["seed"] == 4


@pytest.mark.parametrize("to", ["parent", "process group"])
def test_ctrl_c_stops_every_producer_after_delivering_what_they_hold(aws_endpoint: str, tmp_path: Any, to: str) -> None:
    import signal
    import subprocess

    kinesis = boto3.client("kinesis")
    stream = make_stream(kinesis, shards=2)
    report_path = tmp_path / "report.json"
    command = generate_command("--stream", stream, "--producers", "3", "--rate", "600", "--duration", "120")
    command += ["--seed", "6", "--report-json", str(report_path)]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for_records(kinesis, stream, 600, process, within=90)
        if to == "parent":
            process.send_signal(signal.SIGINT)
        else:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        assert process.wait(timeout=60) == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    err = process.stderr.read()  # type: ignore[union-attr]
    report = json.loads(report_path.read_text())
    landed = [json.loads(data) for data, _ in stream_records(kinesis, stream)]
    assert report["interrupted"] is True and report["exit_code"] == 130
    assert report["sent"] == report["generated"] == report["unique_events"] == len(landed)
    assert len({r["EVENT_ID"] for r in landed}) == len(landed)
    assert all(part["sent"] > 0 for part in report["parts"]), "every producer was sending"
    assert "producers 3 | seed 6" in err
