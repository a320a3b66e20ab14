"""The ELT steps as the DAGs and the CLI call them: connections in, plain results out.

Connections come from Airflow connection ids (``AIRFLOW_CONN_*`` in the environment or the metadata
database). The S3 client is the Amazon provider's, so the AWS connection's ``endpoint_url`` extra (the
local emulator) or the default credential chain (real AWS) applies, without a branch here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from warehouse import checks, loader, summary, transform
from warehouse.identifiers import identifier
from warehouse.settings import load_settings


@dataclass(frozen=True)
class Landing:
    bucket: str
    prefix: str
    # Where Firehose writes the records it could not deliver; the load quarantines them from there.
    error_prefix: str


def landing() -> Landing:
    """Where Firehose delivers: the bucket and the literal folders before the first expression of the
    prefix and of the error output prefix."""
    from aws_infrastructure.settings import load_settings as load_aws_settings

    aws = load_aws_settings()
    return Landing(bucket=aws.bucket, prefix=aws.firehose.landing_prefix, error_prefix=aws.firehose.error_prefix)


@contextlib.contextmanager
def snowflake_without_database(conn_id: str | None = None) -> Iterator[Any]:
    """A connection that may not have its database yet (setup creates it)."""
    from warehouse.snowflake_hook import PipelineSnowflakeHook

    conn = PipelineSnowflakeHook(snowflake_conn_id=conn_id or load_settings().connection_id).get_conn()
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def snowflake(conn_id: str | None = None) -> Iterator[Any]:
    """A connection using the pipeline's database (from config, whatever the connection's default)."""
    with snowflake_without_database(conn_id) as conn:
        use_database(conn, load_settings().database)
        yield conn


def use_database(conn: Any, database: str) -> None:
    """Make the pipeline's database and its RAW schema current (every statement names its schema anyway)."""
    cursor = conn.cursor()
    cursor.execute(f"use database {identifier(database, 'database')}")
    cursor.execute("use schema raw")


def s3_client(aws_conn_id: str = "aws_default") -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=aws_conn_id).get_conn()


def load(snowflake_conn_id: str | None = None, aws_conn_id: str = "aws_default") -> dict[str, Any]:
    where = landing()
    with snowflake(snowflake_conn_id) as conn:
        report = loader.load_new_files(
            conn, s3_client(aws_conn_id), where.bucket, where.prefix, load_settings(), error_prefix=where.error_prefix
        )
    return asdict(report)


def transform_step(step: str, batch_id: str, snowflake_conn_id: str | None = None) -> int:
    with snowflake(snowflake_conn_id) as conn:
        return transform.run_step(conn, step, batch_id)


def check(snowflake_conn_id: str | None = None) -> dict[str, int]:
    with snowflake(snowflake_conn_id) as conn:
        return checks.run_checks(conn)


def counts(snowflake_conn_id: str | None = None) -> dict[str, int]:
    with snowflake(snowflake_conn_id) as conn:
        return summary.table_counts(conn)


def replay(since: str, until: str, snowflake_conn_id: str | None = None, aws_conn_id: str = "aws_default") -> list[str]:
    """Forget the files delivered in [since, until) (ISO-8601, UTC if no zone) so the next run reloads them."""
    from datetime import UTC, datetime

    from warehouse import maintenance

    def parse(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    start, end = parse(since), parse(until)
    if end <= start:
        raise ValueError(f"replay window is empty: until ({until}) must be after since ({since})")
    where = landing()
    with snowflake(snowflake_conn_id) as conn:
        return maintenance.replay(conn, s3_client(aws_conn_id), where.bucket, where.prefix, start, end)
