"""``--producers N``: one run through N producer processes on this machine, and their summed report.

The parent fixes what the producers share (seed, the live clock's start), checks the stream once, and
starts N processes, each sending its ``Share`` of the run. Each child counts its progress into shared
memory, which the parent draws as one bar or log line, and hands its report back over a queue.

Stopping: the children ignore SIGINT (a terminal's Ctrl-C reaches the whole process group, and a
second signal would make them drop what is in flight); the parent forwards the signals it gets as
SIGTERM, so the first stops every producer cooperatively after delivering its buffer, and a second
stops them at once (unconfirmed records are spooled), as with one producer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import secrets
import signal
import sys
import time
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from types import FrameType
from typing import Any

import config
from config import ConfigError
from config.signals import on_stop_signals
from data_generation.cli import EXIT_DELIVERY_FAILED, EXIT_USAGE, default_stream, exit_code, generate, timestamps
from data_generation.pipeline import StopFlag
from data_generation.progress import Progress
from data_generation.report import Report, sum_reports
from data_generation.settings import load_settings
from data_generation.shares import Share

_POLL_SECONDS = 0.1


class SharedProgress:
    """A child's progress, written into its two slots of an array the parent reads."""

    def __init__(self, counts: SynchronizedArray, index: int) -> None:
        self._counts = counts
        self._slot = 2 * index

    def update(self, records: int, events: int, elapsed: float, *, force: bool = False) -> None:
        self._counts[self._slot], self._counts[self._slot + 1] = records, events

    def finish(self, records: int, events: int, elapsed: float) -> None:
        self.update(records, events, elapsed)


def totals(counts: SynchronizedArray) -> tuple[int, int]:
    """Records and valid events put so far by all producers, from their ``SharedProgress`` slots."""
    values = counts[:]
    return sum(values[0::2]), sum(values[1::2])


def _producer(args: argparse.Namespace, share: Share, live_start: int, counts: SynchronizedArray, results: Any) -> None:
    """A child: send this share; put ``(index, report as JSON, None)``, or ``(index, None, (error, is_usage))``."""
    stop = StopFlag()
    with on_stop_signals(stop.request):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping is the parent's call (module docstring)
        try:
            report, extra = generate(
                args, stop, share=share, live_start=live_start, progress=SharedProgress(counts, share.index)
            )
        except ConfigError as exc:
            results.put((share.index, None, (str(exc), True)))
            return
        except KeyboardInterrupt:
            message = "interrupted again while delivering; unconfirmed records went to the spool"
            results.put((share.index, None, (message, False)))
            return
    results.put((share.index, {**report.as_json(), **extra, "exit_code": exit_code(report, stop)}, None))


def main(args: argparse.Namespace) -> int:
    """``--producers N`` from the command line: run, print the summed report, write ``--report-json``."""
    total, code = run_producers(args)
    if total is None:
        return code
    if not args.quiet:
        print(summary(total), file=sys.stderr)
    if args.report_json:
        path = Path(args.report_json)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(total, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"error: --report-json {args.report_json}: cannot write: {exc.strerror}", file=sys.stderr)
            return code or EXIT_USAGE
    return code


def summary(total: dict[str, Any]) -> str:
    """The single-producer summary of the summed counts, the producers and seed, and each spool's replay."""
    lines = [Report.from_json({**total, "spool_path": None}).summary()]
    lines.append(f"  producers {total['producers']} | seed {total['seed']}")
    for path in total["spool_paths"]:
        lines.append(f"  undelivered records are in {path}; send them later with:")
        lines.append(f"    python -m data_generation replay-spool {path}")
    return "\n".join(lines)


def run_producers(args: argparse.Namespace) -> tuple[dict[str, Any] | None, int]:
    """Run ``args.producers`` producer processes; return the summed report (None if none came back) and the
    exit code: 2 for a configuration error, 1 if anything is unaccounted for, 128+N if stopped by signal N."""
    from data_generation.producer import kinesis_client, stream_shards  # boto3 only for the Kinesis sink

    count = args.producers
    stream = args.stream or default_stream()
    stream_shards(kinesis_client(config.load("aws").get("region")), stream)  # a wrong stream fails here, once
    timestamps(args)  # option conflicts fail here, once
    args.stream = stream
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    users = args.users or 0
    if users and users < count:
        raise ConfigError(f"--producers {count} needs at least {count} users (--users {users})")
    live_start = int(time.time())
    context = multiprocessing.get_context("spawn")
    counts = context.Array("q", 2 * count)
    results = context.Queue()
    children: list[multiprocessing.process.BaseProcess] = []
    signals: list[int] = []

    def stop_children() -> None:
        for child in children:
            if child.is_alive():
                os.kill(child.pid, signal.SIGTERM)  # type: ignore[arg-type]

    def forward(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        stop_children()

    events = args.events if args.events is not None else (None if args.duration else load_settings().default_events)
    progress = None if args.quiet else Progress(sys.stderr, events=events, duration=args.duration)
    reports: dict[int, dict[str, Any]] = {}
    errors: dict[int, tuple[str, bool]] = {}
    started = time.monotonic()
    with on_stop_signals(forward):
        ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the children until they start
        try:
            for index in range(count):
                child = context.Process(
                    target=_producer,
                    args=(args, Share(index, count), live_start, counts, results),
                    name=f"producer-{index}",
                )
                child.start()
                children.append(child)
        finally:
            signal.signal(signal.SIGINT, ignored)
        if signals:  # a stop that came while they were starting reaches them all
            stop_children()
        while len(reports) + len(errors) < count:
            try:
                index, report, error = results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not any(child.is_alive() for child in children) and results.empty():
                    break
            else:
                if report is not None:
                    reports[index] = report
                else:
                    errors[index] = error
            if progress is not None:
                progress.update(*totals(counts), time.monotonic() - started)
        for child in children:
            child.join()
    if progress is not None:
        progress.finish(*totals(counts), time.monotonic() - started)
    for index, child in enumerate(children):
        if index not in reports and index not in errors:
            errors[index] = (f"exited with code {child.exitcode} without a report", False)
    for index, (error, _) in sorted(errors.items()):
        print(f"error: producer {index}: {error}", file=sys.stderr)
    if not reports:
        return None, EXIT_USAGE if all(usage for _, usage in errors.values()) else EXIT_DELIVERY_FAILED
    total = sum_reports([reports[i] for i in sorted(reports)])
    if errors:
        lost = [f"producer {i}: {error}" for i, (error, _) in sorted(errors.items())]
        total["error"] = "; ".join(filter(None, [total["error"], *lost]))
        code = EXIT_DELIVERY_FAILED
    elif not Report.from_json(total).ok:
        code = EXIT_DELIVERY_FAILED
    elif total["interrupted"]:
        code = 128 + (signals[0] if signals else signal.SIGINT)
    else:
        code = total.get("exit_code", 0)
    total["exit_code"] = code
    return total, code
