"""The benchmarks run on today's code: each at a tiny size, on its own emulators, so a change that breaks one
fails the suite instead of the next measurement. Its times are not read here (a tiny run on a busy machine
says nothing about speed), only that it reached its last figure and that the counts it checks are on target.
The freshness and producer benchmarks run the whole stack for minutes: left to their own runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO

# Each benchmark's tiny arguments, a line it prints only once it has measured everything, and a word it prints
# only when a count (never a time: the suite holds no timed assertion) is off target.
TINY = {
    "bench_backlog.py": (
        ["--files", "4", "--events-per-file", "20", "--baseline-files", "2"],
        "batched / one file at a time:",
        None,
    ),
    "bench_history.py": (
        ["--objects", "60", "--rows", "2000", "--events", "20", "--repeat", "1"],
        "targets (S3 requests and audit rows the same, wall time <= 1.5x):",
        "DIFFERENT",  # a bounded case read more S3 requests or audit rows with history than without
    ),
    "bench_warehouse.py": (
        ["--events", "2000", "--batch", "500", "--files", "2", "--rounds", "1"],
        "orders after the runs: 2,500 (expected 2,500)",
        None,
    ),
}


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_runs_to_its_figures(script: str) -> None:
    arguments, last_figure, off_target = TINY[script]
    done = subprocess.run(  # our own interpreter and script
        [sys.executable, str(REPO / "benchmarks" / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert last_figure in done.stdout
    assert off_target is None or off_target not in done.stdout, done.stdout[-3000:]
