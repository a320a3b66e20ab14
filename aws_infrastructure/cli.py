"""Command line: ``mobile-events-aws {plan,up,down,status,template}``.

Exit status: 0 done; 2 the config, the options or the request must change (the message says how);
1 AWS or the emulator failed (the message says what it refused, and why when known).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mobile_events_elt.aws_infrastructure.errors import EXIT_OK, run_command
from mobile_events_elt.aws_infrastructure.provisioning import (
    SNOWFLAKE_EXTERNAL_ID_ENV,
    SNOWFLAKE_USER_ENV,
    Stack,
    snowflake_identity,
)
from mobile_events_elt.aws_infrastructure.template import render
from mobile_events_elt.config.aws_settings import load_settings

DESCRIPTION = """Create, inspect and remove the pipeline's AWS resources (S3 bucket, Kinesis stream, Firehose
delivery stream and its role, SNS alerts topic, SQS queue for new landing files, the ELT DAG's Airflow role,
Snowflake's role), or write them as a CloudFormation template. Names and settings come from config/aws.json
($PIPELINE_CONFIG_DIR overrides the folder); credentials from the AWS default chain; AWS_ENDPOINT_URL points at
an emulator.
Exit status: 0 ok, 2 config or usage error, 1 AWS failure."""


def _snowflake_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Snowflake storage integration role (created only when both are given)")
    group.add_argument(
        "--snowflake-iam-user-arn", metavar="ARN", help=f"STORAGE_AWS_IAM_USER_ARN (or ${SNOWFLAKE_USER_ENV})"
    )
    group.add_argument(
        "--snowflake-external-id", metavar="ID", help=f"STORAGE_AWS_EXTERNAL_ID (or ${SNOWFLAKE_EXTERNAL_ID_ENV})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mobile-events-aws",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="show what `up` would change, changing nothing")
    _snowflake_options(plan)

    up = commands.add_parser("up", help="create or update every resource to match the config (idempotent)")
    _snowflake_options(up)

    down = commands.add_parser("down", help="delete every resource `up` creates")
    down.add_argument(
        "--force",
        action="store_true",
        help="also delete the bucket's objects; without it a non-empty bucket stops `down`",
    )

    status = commands.add_parser("status", help="show names, endpoints and which resources exist")
    status.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")

    template = commands.add_parser(
        "template",
        help="write a CloudFormation template of the same resources (JSON), generated from what `up` converges",
    )
    template.add_argument("--out", metavar="FILE", help="write the template to FILE (default: stdout)")

    return parser


def _print_status(status: dict[str, object]) -> None:
    exists = status["exists"]
    assert isinstance(exists, dict)
    print(f"region          {status['region']}   endpoint {status['endpoint_url'] or '(AWS)'}")
    print(
        f"bucket          s3://{status['bucket']}  landing {status['landing_prefix']}  errors {status['error_prefix']}"
    )
    print(f"stream          {status['stream']}")
    print(f"delivery stream {status['delivery_stream']}")
    print(f"topic           {status['topic_arn'] or '-'}")
    print(f"queue           {status['queue_url'] or '-'}")
    for name, present in exists.items():
        print(f"  {'ok     ' if present else 'missing'}  {name}")
    print("ready" if status["ready"] else "not ready: run `mobile-events-aws up`")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.command == "template":
        text = render(settings)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out}", file=sys.stderr)
        else:
            print(text, end="")
        return EXIT_OK
    identity = None
    if args.command in ("plan", "up"):
        identity = snowflake_identity(args.snowflake_iam_user_arn, args.snowflake_external_id)
    stack = Stack.build(settings, identity)

    if args.command == "status":
        status = stack.status()
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            _print_status(status)
        return EXIT_OK
    if args.command == "plan":
        changes = stack.plan()
        for change in changes:
            print(change.describe())
        real = [c for c in changes if c.action != "skip"]
        print(f"Plan: {len(real)} change(s)." if real else "Plan: no changes; everything matches the config.")
        return EXIT_OK
    if args.command == "up":
        made = stack.up(print)
        real = [c for c in made if c.action != "skip"]
        print(
            f"Done: {len(real)} change(s) made."
            if real
            else "Nothing to change: everything already matches the config."
        )
        return EXIT_OK
    removed = stack.down(args.force, print)
    print(f"Done: {len(removed)} resource(s) removed." if removed else "Nothing to remove.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: run(args))
