"""Command line for the event generator and producer (run as ``python -m data_generation``).

Exit codes: 0 done; 1 delivery failure (undelivered records are in the spool, or, replaying, torn lines
of the spool file were set aside: the report says where);
2 usage or configuration error (nothing was sent); 128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM)
after delivering what was buffered.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import config
from config import ConfigError
from data_generation.faults import FaultInjector
from data_generation.generator import EventGenerator, LiveClock
from data_generation.pipeline import StopFlag, run
from data_generation.progress import Progress, ProgressSink
from data_generation.replay import replay_spool, resumed_records, spool_stream
from data_generation.report import Report
from data_generation.settings import load_settings, parse_created_at
from data_generation.shares import MAX_PRODUCERS, Share
from data_generation.sinks import FileSink, OnDelivered, Sink
from data_generation.spool import default_spool_path
from data_generation.throttle import ShardLimit

if TYPE_CHECKING:  # the producer imports boto3 (0.25 s): only the Kinesis sink pays for it
    from data_generation.producer import KinesisProducer

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_USAGE = 0, 1, 2
LIVE, SEED = "live", "seed"
TIMESTAMPS = (LIVE, SEED)

_EPILOG = """\
examples:
  python -m data_generation --events 10000                    # into the Kinesis stream of config/aws.json
  python -m data_generation --sink stdout --events 5 --seed 7
  python -m data_generation --out events.ndjson.gz --events 1000000 --seed 7 --timestamps seed
  python -m data_generation --duration 60 --rate 500 --duplicate-rate 0.01 --malformed-rate 0.005 \\
      --late-rate 0.02 --report-json .local/report.json
  python -m data_generation --producers 4 --duration 60 --users 100000   # 4 processes, one summed report
  python -m data_generation replay-spool .local/spool/<file>.ndjson

The same --seed (and options) with --timestamps seed gives byte-identical output on the stdout and file
sinks; live timestamps depend on when the run starts. Kinesis endpoint and credentials come from
AWS_ENDPOINT_URL and the AWS default chain, never from files.
Exit codes: 0 done, 1 delivery failure (records spooled; replay-spool: also torn lines set aside),
2 usage/config error, 130/143 stopped by Ctrl-C/SIGTERM after delivering what was buffered.
"""


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _probability(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a probability between 0 and 1, got {text!r}")
    return value


def _producers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PRODUCERS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_PRODUCERS}, got {text!r}")
    return int(text)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_generation",
        description="Generate seed-shaped mobile-app events and send them to Kinesis, stdout or an NDJSON file. "
        "Subcommand: `replay-spool PATH` re-sends a dead-letter spool file (see `replay-spool --help`).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    amount = parser.add_argument_group("how many and how fast")
    amount.add_argument(
        "--events", type=_count, metavar="N", help="valid events to send (default: config num_records, 100)"
    )
    amount.add_argument(
        "--duration", type=_positive, metavar="SECONDS", help="run for this long (with --events: whichever is first)"
    )
    amount.add_argument(
        "--producers",
        type=_producers,
        default=1,
        metavar="N",
        help=f"send through N producer processes at once (1-{MAX_PRODUCERS}, Kinesis sink only), each with its "
        "own random draws, users and event ids; --events, --rate and --users are split among them",
    )
    amount.add_argument(
        "--rate",
        type=_non_negative,
        default=0.0,
        metavar="EVENTS_PER_SECOND",
        help="steady rate over all records sent, faults included; 0 = as fast as possible (default)",
    )
    shape = parser.add_argument_group("what the events look like")
    shape.add_argument("--users", type=_positive_int, metavar="N", help="population size (default: config, 1000)")
    shape.add_argument("--seed", type=_seed, metavar="S", help="same seed and options, same events (default: random)")
    shape.add_argument(
        "--timestamps",
        choices=TIMESTAMPS,
        help="live (default): events carry the current time (each its due time at --rate; at full speed, the "
        "run's start); seed: simulated time from --start or config simulation.start (the seed's 2024 dates), "
        "the same bytes for the same --seed",
    )
    shape.add_argument(
        "--start",
        metavar='"YYYY-MM-DD HH:MM:SS"|now',
        help="simulated time of the first event, UTC (implies --timestamps seed; default: config simulation.start)",
    )
    shape.add_argument(
        "--widen-values",
        action="store_true",
        help="also emit the failed purchase statuses the seed defines but never sends (FAILED_CHECKOUT, FRAUD, ...)",
    )
    target = parser.add_argument_group("where they go")
    target.add_argument(
        "--sink", choices=("kinesis", "stdout", "file"), help="default: file if --out is given, else kinesis"
    )
    target.add_argument("--out", metavar="PATH", help="NDJSON file for --sink file; a .gz name compresses")
    target.add_argument("--stream", metavar="NAME", help="Kinesis stream (default: config/aws.json stream.name)")
    target.add_argument(
        "--shard-limit",
        action="store_true",
        help="keep under the stream's write capacity (1,000 records/s and 1 MiB/s per open shard; "
        "with --producers, each keeps to its equal part)",
    )
    target.add_argument("--max-attempts", type=_positive_int, default=6, metavar="N", help="tries per record (6)")
    target.add_argument(
        "--spool", metavar="PATH", help="dead-letter file for undelivered records (default: new file in .local/spool/)"
    )
    faults = parser.add_argument_group("faults to inject (probabilities per valid event, all 0 by default)")
    faults.add_argument("--duplicate-rate", type=_probability, default=0.0, metavar="P", help="re-send a sent event")
    faults.add_argument("--late-rate", type=_probability, default=0.0, metavar="P", help="CREATED_AT hours/days back")
    faults.add_argument(
        "--malformed-rate",
        type=_probability,
        default=0.0,
        metavar="P",
        help="add an invalid record: broken JSON, array/scalar, missing or bad USER_ID, bad CREATED_AT, "
        "coordinates out of range, unknown enum value, negative count",
    )
    output = parser.add_argument_group("reporting")
    output.add_argument("--report-json", metavar="PATH", help="write the final report as JSON here too")
    output.add_argument("--quiet", "-q", action="store_true", help="no progress and no report on stderr")
    return parser


_REPLAY_EPILOG = """\
Torn lines (half a line left by a kill or a full disk mid-write, at the end of the file or anywhere
in it) are not sent: they are copied to PATH.torn and listed by line number in the report, and the
good records around them are sent. A replay killed outright (kill -9, power cut) resumes where its
checkpoint PATH.replaying says when run again, re-sending at most the last 500 records.
Exit codes: 0 all sent; 1 records failed again (in the new spool) or torn lines set aside;
2 not a spool file, or a usage/config error (nothing sent); 130/143 stopped (the rest is spooled).
"""


def build_replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_generation replay-spool",
        description="Send the records of a dead-letter spool file to Kinesis. Records that fail again go to a "
        "new spool file; the replayed file is then renamed *.replayed so it is not sent twice.",
        epilog=_REPLAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="PATH", help="spool file (NDJSON, as written by the producer)")
    parser.add_argument("--stream", metavar="NAME", help="send to this stream instead of the one in the file")
    parser.add_argument("--shard-limit", action="store_true", help="keep under the stream's write capacity")
    parser.add_argument("--max-attempts", type=_positive_int, default=6, metavar="N", help="tries per record (6)")
    parser.add_argument("--spool", metavar="PATH", help="where records that fail again go (default: .local/spool/)")
    parser.add_argument("--report-json", metavar="PATH", help="write the final report as JSON here too")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress and no report on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["replay-spool"]:
            return _replay(build_replay_parser().parse_args(argv[1:]))
        parser = build_parser()
        return _generate(parser, parser.parse_args(argv))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _generate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    sink_name = args.sink or ("file" if args.out else "kinesis")
    if sink_name == "file" and not args.out:
        parser.error("--sink file needs --out PATH")
    if args.out and sink_name != "file":
        parser.error(f"--out is for the file sink; drop --sink {sink_name} or --out")
    for flag in ("stream", "spool", "shard_limit"):
        if getattr(args, flag) and sink_name != "kinesis":
            parser.error(f"--{flag.replace('_', '-')} applies to --sink kinesis only")
    if args.producers > 1:
        if sink_name != "kinesis":
            parser.error("--producers applies to --sink kinesis only")
        from data_generation import fanout  # it builds on this module

        return fanout.main(args)
    stop = StopFlag()
    with stop.installed():
        try:
            report, extra = generate(args, stop)
        except KeyboardInterrupt:
            print("error: interrupted again while delivering; unconfirmed records went to the spool", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader (say `| head`) went away: point stdout at /dev/null so the exit flush stays quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            print("error: stdout was closed by its reader before all events were written", file=sys.stderr)
            return EXIT_DELIVERY_FAILED
    return _finish(report, args, exit_code(report, stop), extra)


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
        sink = _kinesis_producer(target, args, spool, on_delivered, share.count)
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


def _kinesis_producer(
    stream: str,
    args: argparse.Namespace,
    spool_path: Path | None,
    on_delivered: OnDelivered | None = None,
    producers: int = 1,
) -> KinesisProducer:
    """A producer for ``stream`` with the user's --max-attempts and --shard-limit, one of ``producers`` sharing
    the stream's capacity (its shards are read either way, so a missing stream fails here with a clear message)."""
    from data_generation.producer import KinesisProducer, kinesis_client, stream_shards  # boto3: 0.25 s

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


def _replay(args: argparse.Namespace) -> int:
    path = Path(args.path)
    stream, total = spool_stream(path)
    stream = args.stream or stream
    producer = _kinesis_producer(stream, args, Path(args.spool) if args.spool else default_spool_path(stream))
    done = resumed_records(path)
    if done and not args.quiet:
        print(f"resuming: a killed replay of {path} already handed over its first {done:,} records", file=sys.stderr)
    progress = None if args.quiet else Progress(sys.stderr, events=total - done, duration=None)
    stop = StopFlag()
    with stop.installed():
        try:
            report = replay_spool(path, producer, stop=stop, progress=progress)
        except KeyboardInterrupt:
            print("error: interrupted again while delivering; unconfirmed records went to the spool", file=sys.stderr)
            return 130
    extra = {"sink": "kinesis", "target": stream, "replayed": str(path)}
    return _finish(report, args, exit_code(report, stop), extra)


def _finish(report: Report, args: argparse.Namespace, code: int, extra: dict[str, Any]) -> int:
    if not args.quiet:
        seed = f"\n  seed {extra['seed']}" if "seed" in extra else ""
        print(report.summary() + seed, file=sys.stderr)
    if args.report_json:
        try:
            report.write_json(Path(args.report_json), {**extra, "exit_code": code})
        except OSError as exc:
            print(f"error: --report-json {args.report_json}: cannot write: {exc.strerror}", file=sys.stderr)
            return code or EXIT_USAGE
    return code


def default_stream() -> str:
    try:
        return config.load("aws")["stream"]["name"]
    except (KeyError, TypeError):
        raise ConfigError("config/aws.json: stream.name is missing; set it or pass --stream") from None
