"""``mobile-events-stack firehose``: run the local Firehose delivery (Kinesis -> S3), which no emulator does.

Exit status: 0 done; 2 the config or the delivery stream must change (the message says how); 1 AWS or the
emulator failed.
"""

from __future__ import annotations

import argparse
import json

from mobile_events_elt.aws_infrastructure.errors import EXIT_OK, run_command
from mobile_events_elt.local_stack.firehose import STATE_DIR_ENV, deliver


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="deliver what is in the stream now, then exit")
    parser.add_argument(
        "--state-dir", metavar="DIR", help=f"checkpoint folder (default ${STATE_DIR_ENV} or .local/firehose/)"
    )
    parser.add_argument("--delivery-stream", metavar="NAME", help="default: firehose.name in aws.json")
    parser.add_argument("--poll-seconds", type=float, default=1.0, help="idle wait between reads (default 1)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    def deliver_and_report() -> int:
        report = deliver(
            once=args.once,
            delivery_stream=args.delivery_stream,
            state_directory=args.state_dir,
            poll_seconds=args.poll_seconds,
        )
        print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
        return EXIT_OK

    return run_command(deliver_and_report)
