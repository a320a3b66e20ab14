"""Run the warehouse steps from a shell: ``mobile-events-warehouse {setup,load,transform,check,summary,report,docs}``.

The same functions the Airflow DAGs call, with the same connections (``AIRFLOW_CONN_SNOWFLAKE_DEFAULT``,
``AIRFLOW_CONN_AWS_DEFAULT``), and the same exclusion: setup, load, transform and check take the pipeline's
lease, waiting for a DAG run that holds it. Exit status: 0 ok, 1 a step or check failed (or the pipeline
stayed busy, or the database is at another schema version), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mobile_events_elt import config
from mobile_events_elt.config.identifiers import IdentifierError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mobile-events-warehouse", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    setup_cmd = sub.add_parser(
        "setup",
        help="apply the migrations not yet applied (as the pipeline role); or, with --account-objects, "
        "create the account objects (as an administrator)",
    )
    setup_cmd.add_argument(
        "--account-objects",
        metavar="JSON",
        help="run only sql/setup/account/*.sql with these &{name} values (real Snowflake, administrator; all "
        'values: docs/production.md), e.g. \'{"warehouse": "MOBILE_EVENTS_WH", "role": "MOBILE_EVENTS_LOADER", ...}\'',
    )
    setup_cmd.add_argument(
        "--conn-id",
        help="the Airflow connection to use (default: connection_id in config/snowflake.json); the account objects "
        "need an administrator's connection",
    )
    sub.add_parser("load", help="load every delivered file not loaded before")
    sub.add_parser("transform", help="run every transform step on the files loaded since the last run")
    sub.add_parser("check", help="run the reports and every data test on the whole tables")
    sub.add_parser("summary", help="print row counts per table as JSON")
    report_cmd = sub.add_parser(
        "report", help="write the pipeline health page as static HTML: DIR/index.html (last day), hour.html, week.html"
    )
    report_cmd.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write the pages into (made owner-only)"
    )
    docs_cmd = sub.add_parser("docs", help="write dbt's docs site (models, tests, lineage, catalog) as static files")
    docs_cmd.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder to write the site into (default: $WAREHOUSE_DBT_DOCS_DIR, else .local/dbt-docs)",
    )
    args = parser.parse_args(argv)

    from mobile_events_elt.config.warehouse_settings import load_settings
    from mobile_events_elt.warehouse import exclusion, pipeline, setup, transform

    # Named in the pipeline's lease and in its sessions' QUERY_TAG (the writers take the lease: docs/exclusion.md).
    caller = exclusion.Caller.command(args.command)
    try:
        settings = load_settings()
        if args.command == "setup":
            variables = _account_variables(args.account_objects) if args.account_objects else None
            with pipeline.snowflake_without_database(args.conn_id, caller.query_tag) as conn:
                ran = setup.run_setup(conn, settings, variables, caller)
            what = "ran" if variables is not None else "applied"
            print(f"setup: {what} {len(ran)} files{': ' if ran else ''}{', '.join(ran)}")
        elif args.command == "load":
            print(json.dumps(pipeline.load(caller=caller), indent=2))
        elif args.command == "transform":
            print(json.dumps(pipeline.transform_only(caller=caller), indent=2))
        elif args.command == "docs":
            print(f"dbt docs: {pipeline.docs(args.out)}")
        elif args.command == "check":
            print(json.dumps(pipeline.check(caller=caller), indent=2))
        elif args.command == "report":
            return _report(args.out)
        else:
            print(json.dumps(pipeline.counts(), indent=2))
    except (config.ConfigError, IdentifierError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (transform.ChecksFailed, setup.SetupError, exclusion.ExclusionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _report(out: Path) -> int:
    """The static report, read through the read connection, into an owner-only folder."""
    from mobile_events_elt.warehouse import report

    try:
        index, problems = report.write(out)
    except report.ReportFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {index}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _account_variables(text: str) -> dict[str, str]:
    from mobile_events_elt.warehouse.account import setup_variables

    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise config.ConfigError(f"--account-objects: not valid JSON: {exc.msg}") from None
    if not isinstance(values, dict):
        raise config.ConfigError("--account-objects: a JSON object of variable names and values")
    # The external stage must be the folder the loader lists, whose keys it names relative to that folder.
    from mobile_events_elt.warehouse.pipeline import landing

    where = landing()
    values = {"bucket": where.bucket, "landing_prefix": where.prefix, **values}
    if (values["bucket"], values["landing_prefix"]) != (where.bucket, where.prefix):
        raise config.ConfigError(
            f"--account-objects: the external stage would point at s3://{values['bucket']}/{values['landing_prefix']}"
            f", but the loader reads s3://{where.bucket}/{where.prefix} (config/aws.json); leave bucket and "
            "landing_prefix out to use config/aws.json"
        )
    return setup_variables(values)


if __name__ == "__main__":
    sys.exit(main())
