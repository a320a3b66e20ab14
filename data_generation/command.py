"""One generation run as the command line describes it (sink, timestamps, faults, producer share), shared by the
CLI, the fan-out over N processes and the event_simulation DAG's tasks."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mobile_events_elt import config
from mobile_events_elt.config import ConfigError
from mobile_events_elt.config.generator_settings import load_settings, parse_created_at
from mobile_events_elt.data_generation.faults import FaultInjector
from mobile_events_elt.data_generation.generator import EventGenerator, LiveClock
from mobile_events_elt.data_generation.pipeline import StopFlag, run
from mobile_events_elt.data_generation.progress import Progress, ProgressSink
from mobile_events_elt.data_generation.report import Report
from mobile_events_elt.data_generation.shares import Share
from mobile_events_elt.data_generation.sinks import FileSink, OnDelivered, Sink
from mobile_events_elt.data_generation.throttle import ShardLimit

if TYPE_CHECKING:  # the producer imports boto3 (0.25 s): only the Kinesis sink pays for it
    from mobile_events_elt.data_generation.producer import KinesisProducer

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_USAGE = 0, 1, 2
LIVE, SEED = "live", "seed"
TIMESTAMPS = (LIVE, SEED)


def timestamps(args: argparse.Namespace) -> str:
    """The run's timestamp mode: --timestamps, else seed when --start is given, else live."""
    if args.timestamps == LIVE and args.start:
        raise ConfigError("--start sets the simulated clock of --timestamps seed; drop it or --timestamps live")
    return args.timestamps or (SEED if args.start else LIVE)


def generate(
    args: argparse.Namespace,
    stop: StopFlag,
    *,
    share: Share | None = None,
    live_start: int | None = None,
    progress: ProgressSink | None = None,
) -> tuple[Report, dict[str, Any]]:
    """Run one generation as parsed from the command line; return the report and what identifies the run.

    ``share`` is this producer's part of a fanned-out run; all its producers must get the same ``args.seed``
    and ``live_start`` (the live clock's start, default now). ``progress`` defaults to stderr unless quiet.
    """
    settings = load_settings()
    share = share or Share()
    sink_name = args.sink or ("file" if args.out else "kinesis")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    total = args.events if args.events is not None else (None if args.duration else settings.default_events)
    count, rate = share.events(total), share.rate(args.rate)
    mode = timestamps(args)
    start_epoch, live = None, None
    if mode == SEED and args.start:
        start_epoch = int(time.time()) if args.start == "now" else parse_created_at(args.start, "--start")
    if mode == LIVE:
        # The clock stamps valid events; the pacer's rate also counts the injected records.
        events_rate = rate / (1 + args.duplicate_rate + args.malformed_rate)
        live = LiveClock(int(time.time()) if live_start is None else live_start, events_rate)
    try:
        generator = EventGenerator(
            settings,
            seed=seed,
            users=args.users or settings.default_users,
            late_rate=args.late_rate,
            widen_values=args.widen_values,
            start_epoch=start_epoch,
            live=live,
            share=share,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    faults = None
    if args.duplicate_rate or args.malformed_rate:
        faults = FaultInjector(seed, generator.namespace, args.duplicate_rate, args.malformed_rate, share)
    on_delivered = faults.delivered if faults is not None and args.duplicate_rate else None

    sink: Sink
    if sink_name == "kinesis":
        target = args.stream or default_stream()
        spool = Path(args.spool) if args.spool else None
        if spool is not None and share.count > 1:
            spool = spool.with_name(f"{spool.stem}-{share.index}{spool.suffix}")
        sink = kinesis_producer(target, args, spool, on_delivered, share.count)
    elif sink_name == "stdout":
        target, sink = "-", FileSink.stdout(on_delivered)
    else:
        target = args.out
        try:
            sink = FileSink.open(Path(args.out), on_delivered)
        except OSError as exc:
            raise ConfigError(f"--out {args.out}: cannot open for writing: {exc.strerror}") from None

    if progress is None and not args.quiet:
        progress = Progress(sys.stderr, events=count, duration=args.duration)
    report = run(
        generator,
        sink,
        count=count,
        duration=args.duration,
        rate=rate,
        faults=faults,
        progress=progress,
        stop=stop,
    )
    extra: dict[str, Any] = {"seed": seed, "sink": sink_name, "target": target, "timestamps": mode}
    if live is not None:
        extra["live_start"] = live.start
    if share.count > 1:
        extra["producer"] = share.index
    return report, extra


def exit_code(report: Report, stop: StopFlag) -> int:
    """1 if anything was left undelivered, else 128+signal if stopped by one (130 for Ctrl-C), else 0."""
    if not report.ok:
        return EXIT_DELIVERY_FAILED
    if report.interrupted:
        return 128 + (stop.signal or 2)
    return EXIT_OK


def kinesis_producer(
    stream: str,
    args: argparse.Namespace,
    spool_path: Path | None,
    on_delivered: OnDelivered | None = None,
    producers: int = 1,
) -> KinesisProducer:
    """A producer for ``stream`` with the user's --max-attempts and --shard-limit, one of ``producers`` sharing
    the stream's capacity (its shards are read either way, so a missing stream fails here with a clear message)."""
    from mobile_events_elt.data_generation.producer import (  # boto3: 0.25 s
        KinesisProducer,
        kinesis_client,
        stream_shards,
    )

    client = kinesis_client(config.load("aws").get("region"))
    shards = stream_shards(client, stream)
    return KinesisProducer(
        stream,
        client=client,
        max_attempts=args.max_attempts,
        spool_path=spool_path,
        shard_limit=ShardLimit(shards, producers) if args.shard_limit else None,
        on_delivered=on_delivered,
    )


def default_stream() -> str:
    try:
        return config.load("aws")["stream"]["name"]
    except (KeyError, TypeError):
        raise ConfigError("config/aws.json: stream.name is missing; set it or pass --stream") from None
