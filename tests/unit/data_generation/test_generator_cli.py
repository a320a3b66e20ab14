"""`python -m data_generation` with the stdout and file sinks: acceptance, reproducibility, report, errors."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_generation.cli import main
from data_generation.progress import Progress
from tests.support.contract import problems

REPO = Path(__file__).resolve().parents[3]


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "data_generation", *args],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_acceptance_100k_valid_seed_shaped_events_identical_for_the_same_seed() -> None:
    first = _cli("--sink", "stdout", "--events", "100000", "--seed", "7", "--timestamps", "seed")
    second = _cli("--sink", "stdout", "--events", "100000", "--seed", "7", "--timestamps", "seed")
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout == second.stdout
    lines = first.stdout.decode().splitlines()
    assert len(lines) == 100_000
    assert first.stdout.endswith(b"\n")
    bad = [(i, p) for i, line in enumerate(lines) if (p := problems(line))]
    assert bad == []
    assert len({json.loads(line)["EVENT_ID"] for line in lines}) == 100_000
    assert b"sent 100,000 records" in first.stderr
    other = _cli("--sink", "stdout", "--events", "1000", "--seed", "8", "--quiet")
    assert other.stdout.splitlines() != first.stdout.splitlines()[:1000]
    assert other.stderr == b""


def test_file_sink_is_reproducible_plain_and_gzipped(tmp_path: Path) -> None:
    common = ["--events", "5000", "--seed", "3", "--users", "200", "--duplicate-rate", "0.05", "--malformed-rate"]
    common += ["0.05", "--late-rate", "0.05", "--timestamps", "seed", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a.ndjson")]) == 0
    assert main([*common, "--out", str(tmp_path / "b.ndjson.gz")]) == 0
    assert main([*common, "--out", str(tmp_path / "sub" / "c.ndjson.gz")]) == 0
    plain = (tmp_path / "a.ndjson").read_bytes()
    gzipped, again = (tmp_path / "b.ndjson.gz").read_bytes(), (tmp_path / "sub" / "c.ndjson.gz").read_bytes()
    assert gzip.decompress(gzipped) == gzip.decompress(again) == plain
    # Same header (no timestamp, no file name); the deflate stream itself depends on when the sink's
    # linger timer flushed, so only its content is compared.
    assert gzipped[:10] == again[:10]
    assert len(plain.splitlines()) > 5000


def test_report_counts_every_kind_of_record_exactly(tmp_path: Path) -> None:
    out, report_path = tmp_path / "events.ndjson", tmp_path / "report.json"
    code = main(
        [
            "--out",
            str(out),
            "--events",
            "20000",
            "--seed",
            "12",
            "--duplicate-rate",
            "0.03",
            "--malformed-rate",
            "0.02",
            "--late-rate",
            "0.04",
            "--report-json",
            str(report_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    lines = out.read_text().splitlines()
    seen: set[str] = set()
    duplicates = malformed = late = 0
    newest = ""
    for line in lines:
        if problems(line):
            malformed += 1
            continue
        record = json.loads(line)
        if record["EVENT_ID"] in seen:
            duplicates += 1
            continue
        seen.add(record["EVENT_ID"])
        if record["CREATED_AT"] < newest:
            late += 1
        newest = max(newest, record["CREATED_AT"])
    assert report["sent"] == report["generated"] == len(lines) == 20000 + duplicates + malformed
    assert report["unique_events"] == len(seen) == 20000
    assert (report["duplicates"], report["malformed"], report["late"]) == (duplicates, malformed, late)
    assert duplicates > 300 and malformed > 200 and late > 500
    assert sum(report["malformed_kinds"].values()) == malformed and len(report["malformed_kinds"]) == 9
    assert report["retried"] == report["failed"] == report["spooled"] == 0
    assert report["bytes"] == out.stat().st_size
    assert isinstance(report["seconds"], float) and report["seed"] == 12


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sink", "file"], "--sink file needs --out PATH"),
        (["--sink", "stdout", "--out", "x.ndjson"], "--out is for the file sink"),
        (["--sink", "stdout", "--stream", "s"], "--stream applies to --sink kinesis only"),
        (["--rate", "-5"], "--rate: expected a number >= 0"),
        (["--duplicate-rate", "1.5"], "--duplicate-rate: expected a probability between 0 and 1"),
        (["--events", "many"], "--events: expected a whole number"),
        (["--users", "0"], "--users: expected a whole number >= 1"),
        (["--sink", "stdout", "--start", "tomorrow"], '--start: expected "YYYY-MM-DD HH:MM:SS" (UTC)'),
        (["--sink", "nowhere"], "invalid choice: 'nowhere'"),
        (["--sink", "stdout", "--producers", "2"], "--producers applies to --sink kinesis only"),
        (["--producers", "65"], "--producers: expected a whole number from 1 to 64"),
        (["--sink", "stdout", "--timestamps", "live", "--start", "now"], "--start sets the simulated clock"),
        (["--sink", "stdout", "--timestamps", "2024"], "invalid choice: '2024'"),
        (["replay-spool", "/nonexistent/spool.ndjson"], "cannot read the spool file"),
    ],
)
def test_usage_and_config_errors_exit_2_with_an_actionable_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(args)
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert out == ""


def test_help_documents_options_exit_codes_and_the_replay_subcommand() -> None:
    result = _cli("--help")
    text = result.stdout.decode()
    assert result.returncode == 0
    for option in ("--events", "--duration", "--rate", "--users", "--seed", "--sink", "--out", "--stream"):
        assert option in text
    assert "replay-spool" in text and "Exit codes" in text
    replay = _cli("replay-spool", "--help")
    assert replay.returncode == 0 and "--stream" in replay.stdout.decode()


def test_start_and_duration_and_rate(tmp_path: Path) -> None:
    out = tmp_path / "paced.ndjson"
    code = main(["--out", str(out), "--duration", "0.3", "--rate", "100", "--start", "2025-06-01 12:00:00", "-q"])
    lines = out.read_text().splitlines()
    assert code == 0 and lines
    assert json.loads(lines[0])["CREATED_AT"] == "2025-06-01 12:00:00"


def test_events_carry_the_current_time_unless_seed_dates_are_asked_for(tmp_path: Path) -> None:
    live, seed = tmp_path / "live.ndjson", tmp_path / "seed.ndjson"
    before = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    assert main(["--out", str(live), "--events", "2000", "--seed", "1", "--rate", "4000", "-q"]) == 0
    after = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    assert main(["--out", str(seed), "--events", "2000", "--seed", "1", "--timestamps", "seed", "-q"]) == 0
    live_times = [json.loads(line)["CREATED_AT"] for line in live.read_text().splitlines()]
    assert before <= min(live_times) and max(live_times) <= after
    assert json.loads(seed.read_text().splitlines()[0])["CREATED_AT"] == "2024-01-29 00:00:00"


def test_progress_is_a_count_line_in_logs_and_a_redrawn_bar_on_a_terminal() -> None:
    log = io.StringIO()
    progress = Progress(log, events=1000, duration=None)
    progress.update(100, 100, 0.1)  # too soon after the start for a log line
    progress.update(600, 500, 6.0)
    progress.update(700, 600, 6.5)  # within the log interval: skipped
    progress.finish(1000, 1000, 7.0)  # logs get the final report instead
    assert log.getvalue() == "progress: 600 records (50%), 100 events/s\n"

    leader, follower = os.openpty()
    with open(follower, "w", closefd=True) as terminal:
        bar = Progress(terminal, events=1000, duration=None)
        bar.update(500, 500, 1.0)
        bar.update(600, 600, 1.1)  # within the redraw interval: skipped
        bar.finish(1000, 1000, 1.25)
    output = b""
    while not output.endswith(b"\n"):  # the terminal may hand the writes over in more than one read
        try:
            output += os.read(leader, 4096)
        except OSError:  # nothing more to read: the writer is closed
            break
    drawn = output.decode().replace("\r\n", "\n")  # the terminal turns \n into \r\n
    os.close(leader)
    assert drawn == (
        "\r[###############               ]  50.0% 500 records  500 events/s  "
        "\r[##############################] 100.0% 1,000 records  800 events/s  \n"
    )
