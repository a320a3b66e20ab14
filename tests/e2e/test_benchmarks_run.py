"""The benchmarks run on today's code: each at a tiny size, on its own emulators (its figures are not read
here, only that it reached them), so a change that breaks one fails the suite instead of the next
measurement. The freshness and producer benchmarks run the whole stack for minutes: left to their own runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO

# Each benchmark's tiny arguments, and a line it prints only once it has measured everything.
TINY = {
    "bench_backlog.py": (
        ["--files", "4", "--events-per-file", "20", "--baseline-files", "2"],
        "batched / one file at a time:",
    ),
    "bench_history.py": (
        ["--objects", "60", "--rows", "2000", "--events", "20", "--repeat", "1"],
        "targets (S3 requests and audit rows the same, wall time <= 1.5x): met",
    ),
    "bench_warehouse.py": (
        ["--events", "2000", "--batch", "500", "--files", "2", "--rounds", "1"],
        "orders after the runs: 2,500 (expected 2,500)",
    ),
}


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_runs_to_its_figures(script: str) -> None:
    arguments, last_figure = TINY[script]
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
