"""Helpers for warehouse tests: land NDJSON files in the emulated S3 and run the pipeline's steps."""

from __future__ import annotations

import dataclasses
import gzip
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from warehouse import checks, loader, setup, transform
from warehouse.settings import WarehouseSettings, load_settings

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
    done = transform.run_batch(conn)
    checks.run_checks(conn, scope=done.scope)  # as the pipeline runs them: on what the run wrote
    return report


def prepare(conn: Any, settings: WarehouseSettings) -> None:
    setup.run_setup(conn, settings)


def scalar(conn: Any, sql: str) -> Any:
    return conn.cursor().execute(sql).fetchone()[0]
