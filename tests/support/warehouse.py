"""Helpers for warehouse tests: land NDJSON files in the emulated S3 and run the pipeline's steps."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import snowflake.connector

from mobile_events_elt.config.warehouse_settings import WarehouseSettings, load_settings
from mobile_events_elt.warehouse import loader, setup, transform

PREFIX = "landing/"


def settings_for(database: str) -> WarehouseSettings:
    return dataclasses.replace(load_settings(), database=database, stage_mode="internal")


def new_bucket() -> tuple[Any, str]:
    s3 = boto3.client("s3")
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def put_ndjson(s3: Any, bucket: str, lines: list[str] | bytes, name: str | None = None) -> str:
    """Land a file where Firehose would put it now: in the current hour's folder (runs list recent folders)."""
    hour = datetime.now(UTC).strftime("year=%Y/month=%m/day=%d/hour=%H")
    key = f"{PREFIX}{hour}/{name or uuid.uuid4().hex}.gz"
    body = lines if isinstance(lines, bytes) else gzip.compress(("\n".join(lines) + "\n").encode())
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def run_pipeline(conn: Any, s3: Any, bucket: str, settings: WarehouseSettings) -> loader.LoadReport:
    report = loader.load_new_files(conn, s3, bucket, PREFIX, settings)
    transform.run_batch(conn)  # the build's data tests check what it wrote
    return report


@contextlib.contextmanager
def sessions(server: dict[str, Any], database: str) -> Iterator[Callable[[], Any]]:
    """A maker of new sessions on ``database``, each set up as the pipeline sets up its own; all closed at the
    end of the block."""
    from mobile_events_elt.warehouse.pipeline import use_database

    opened: list[Any] = []

    def session() -> Any:
        conn = snowflake.connector.connect(**server, database=database)
        use_database(conn, database)
        opened.append(conn)
        return conn

    try:
        yield session
    finally:
        for conn in opened:
            conn.close()


def prepare(conn: Any, settings: WarehouseSettings) -> None:
    setup.run_setup(conn, settings)


def scalar(conn: Any, sql: str) -> Any:
    return conn.cursor().execute(sql).fetchone()[0]


def point_pipeline_at_emulators(
    monkeypatch: Any, snowflake_server: dict[str, Any], aws_endpoint: str, database: str
) -> tuple[Any, str]:
    """The Airflow connections and database ``warehouse.pipeline`` reads, pointed at the emulators; the
    configured bucket and an S3 client. The bucket is the session's: created if missing, else emptied, so no
    file or listing marker of an earlier test is in it."""
    from mobile_events_elt.config.aws_settings import load_settings as load_aws_settings

    extra = {k: v for k, v in snowflake_server.items() if k not in ("user", "password")} | {"dbt_target": "emulator"}
    connection = {"conn_type": "snowflake", "login": "local", "password": snowflake_server["password"], "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", json.dumps(connection))
    aws_connection = {"conn_type": "aws", "extra": {"endpoint_url": aws_endpoint}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(aws_connection))
    monkeypatch.setenv("SNOWFLAKE_DATABASE", database)
    bucket = load_aws_settings().bucket
    s3 = boto3.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for found in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=found["Key"])
    return s3, bucket
