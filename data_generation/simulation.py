"""The generator as an Airflow task (dags/event_simulation.py): DAG params in, the report out.

The params go through the command line's own parser, so the task accepts and rejects exactly what
``mobile-events-generate`` does. No signal handlers are installed: the task runner owns the
process's signals, and a task torn down mid-run still delivers what was buffered (``pipeline.run``).
"""

from __future__ import annotations

import sys
from typing import Any

from mobile_events_elt.data_generation.cli import build_parser, exit_code, generate
from mobile_events_elt.data_generation.pipeline import StopFlag

_PASSED_THROUGH = ("stream", "rate", "users", "seed", "duplicate_rate", "late_rate", "malformed_rate")


def run_from_params(params: dict[str, Any]) -> dict[str, Any]:
    """Send events to Kinesis (``stream``, default config/aws.json); ``events`` 0 means ``duration`` seconds.

    Returns the report (as ``--report-json`` writes it); raises RuntimeError if records were left
    undelivered, so the task fails and the log names the spool file to replay.
    """
    argv = ["--sink", "kinesis"]
    events = int(params.get("events") or 0)
    argv += ["--events", str(events)] if events else ["--duration", str(params.get("duration") or 60)]
    for name in _PASSED_THROUGH:
        if params.get(name) is not None:
            argv += [f"--{name.replace('_', '-')}", str(params[name])]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        raise ValueError(f"invalid event_simulation params {params!r}: see the usage error above") from None
    stop = StopFlag()
    report, extra = generate(args, stop)
    code = exit_code(report, stop)
    print(report.summary(), file=sys.stderr)
    result = {**report.as_json(), **extra, "exit_code": code}
    if code:
        raise RuntimeError(f"event generation ended with exit code {code}: {report.error or 'see the report above'}")
    return result
