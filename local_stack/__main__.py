"""``mobile-events-stack {demo,soak,up,down,status,firehose,run,compose}``: the local stack's commands.

The Makefile's targets call them.
"""

from __future__ import annotations

import argparse
import sys

from mobile_events_elt.local_stack.firehose import cli as firehose_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mobile-events-stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo_cmd = sub.add_parser("demo", help="run the whole pipeline once on a fresh local stack")
    demo_cmd.add_argument("--events", type=int, default=10000, help="events to send (default 10000)")
    demo_cmd.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    demo_cmd.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="probability of a duplicate, a late and a malformed record each (default 0: clean data)",
    )
    soak_cmd = sub.add_parser("soak", help="a long faulty run through the whole stack, then a reconciliation")
    soak_cmd.add_argument("--events", type=int, default=1_000_000, help="events to send (default 1,000,000)")
    soak_cmd.add_argument("--fault-rate", type=float, default=0.01, help="duplicate/late/malformed rate each")
    soak_cmd.add_argument("--kills", type=int, default=3, help="times the local Firehose is SIGKILLed (default 3)")
    soak_cmd.add_argument(
        "--aws-restarts", type=int, default=1, help="times the AWS emulator is SIGKILLed and restarted (default 1)"
    )
    firehose_cmd = sub.add_parser(
        "firehose",
        help="run the local Firehose delivery (Kinesis -> S3), which the AWS emulator does not do",
        description="Deliver the Kinesis stream's records to S3 as the delivery stream's description says. "
        "Without --once, runs until SIGINT/SIGTERM, then writes what it buffered and exits.",
    )
    firehose_cli.add_arguments(firehose_cmd)
    up_cmd = sub.add_parser("up", help="start the long-running local stack")
    up_cmd.add_argument(
        "--executor",
        choices=("local", "celery"),
        default="local",
        help="local: LocalExecutor on SQLite (default); celery: Celery workers, Redis, PostgreSQL",
    )
    up_cmd.add_argument("--workers", type=int, default=2, help="Celery workers with --executor celery (default 2)")
    compose_cmd = sub.add_parser("compose", help="print docker-compose.yaml as local_stack/services.py declares it")
    compose_cmd.add_argument("--write", action="store_true", help="write docker-compose.yaml instead of printing it")
    sub.add_parser("down", help="stop everything `up` started")
    sub.add_parser("status", help="show what runs")
    run_cmd = sub.add_parser(
        "run",
        help="run a command with the running stack's connections, e.g. run -- mobile-events-warehouse summary",
    )
    run_cmd.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from mobile_events_elt.local_stack.demo import demo

        if args.events < 1:
            parser.error("--events must be at least 1")
        if not 0 <= args.fault_rate <= 1:
            parser.error("--fault-rate must be between 0 and 1")
        return demo(args.events, args.seed, args.fault_rate)
    if args.command == "firehose":
        return firehose_cli.run(args)
    if args.command == "run":
        from mobile_events_elt.local_stack.with_stack import run_with_stack_env

        return run_with_stack_env(args.argv)
    if args.command == "compose":
        from mobile_events_elt.local_stack import compose

        return compose.main(write=args.write)
    if args.command == "soak":
        from mobile_events_elt.local_stack.soak import soak

        return soak(args.events, args.fault_rate, args.kills, args.aws_restarts)
    from mobile_events_elt.local_stack import up

    if args.command == "up":
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        return up.up(args.executor, args.workers)
    return {"down": up.down, "status": up.status}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
