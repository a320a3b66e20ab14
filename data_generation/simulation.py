"""The generator as Airflow tasks (dags/event_simulation.py): DAG params in, one report per producer out.

``plan_producers`` checks the params once and fixes what a run's producers share (the seed and the live
clock's start); ``run_producer`` sends one producer's share; ``data_generation.report.sum_reports`` adds
their reports up. A retried producer gets the same plan, so it re-sends byte-identical records
that the warehouse removes as duplicates. The params go through the command line's own parser, so the
tasks accept and reject exactly what ``python -m data_generation`` does. No signal handlers are
installed: the task runner owns the process's signals, and a task torn down mid-run still delivers
what was buffered (``pipeline.run``).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from typing import Any

from config import ConfigError
from data_generation.cli import build_parser, exit_code, generate
from data_generation.pipeline import StopFlag
from data_generation.shares import MAX_PRODUCERS, Share

_PASSED_THROUGH = ("stream", "rate", "users", "seed", "duplicate_rate", "late_rate", "malformed_rate", "timestamps")


def plan_producers(params: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per producer (``producers`` param, default 1), all with the same seed and clock start.

    Raises ValueError for params the command line would refuse, before any producer starts.
    """
    producers = params.get("producers") or 1
    if not isinstance(producers, int) or not 1 <= producers <= MAX_PRODUCERS:
        raise ValueError(f"invalid event_simulation params: producers must be 1 to {MAX_PRODUCERS}, got {producers!r}")
    args = _parse(params)
    users = args.users or 0
    if users and users < producers:
        raise ValueError(f"invalid event_simulation params: {producers} producers need at least {producers} users")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    fixed = {**params, "seed": seed}
    live_start = int(time.time())
    return [
        {"params": fixed, "producer": index, "producers": producers, "live_start": live_start}
        for index in range(producers)
    ]


def run_producer(part: dict[str, Any]) -> dict[str, Any]:
    """Send one producer's share of events to Kinesis (``stream``, default config/aws.json).

    Returns its report (as ``--report-json`` writes it); raises RuntimeError if records were left
    undelivered, so the task fails (and is retried) and the log names the spool file.
    """
    args = _parse(part["params"])
    share = Share(int(part["producer"]), int(part["producers"]))
    stop = StopFlag()
    try:
        report, extra = generate(args, stop, share=share, live_start=int(part["live_start"]))
    except ConfigError as exc:
        raise ValueError(f"invalid event_simulation params: {exc}") from None
    code = exit_code(report, stop)
    print(report.summary(), file=sys.stderr)
    result = {**report.as_json(), **extra, "producer": share.index, "exit_code": code}
    if code:
        raise RuntimeError(f"event generation ended with exit code {code}: {report.error or 'see the report above'}")
    return result


def _parse(params: dict[str, Any]) -> argparse.Namespace:
    argv = ["--sink", "kinesis"]
    events = int(params.get("events") or 0)
    argv += ["--events", str(events)] if events else ["--duration", str(params.get("duration") or 60)]
    for name in _PASSED_THROUGH:
        if params.get(name) is not None:
            argv += [f"--{name.replace('_', '-')}", str(params[name])]
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        raise ValueError(f"invalid event_simulation params {params!r}: see the usage error above") from None
