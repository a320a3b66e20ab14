"""The one place that builds AWS and Snowflake clients, so every caller gets the same endpoint and credentials.

Outside Airflow a boto3 client uses boto3's default chain and ``AWS_ENDPOINT_URL`` (the emulator, or nothing
for AWS); in a task, ``aws_conn_id`` names the Airflow AWS connection that supplies them. Snowflake is always
reached through an Airflow connection (``config.snowflake_hook.PipelineSnowflakeHook``), whose id defaults to
``config.connections().snowflake``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config


def aws_client(
    service: str, region: str | None = None, *, aws_conn_id: str | None = None, client_config: Config | None = None
) -> Any:
    """A boto3 client for ``service``: through the Airflow connection ``aws_conn_id`` when given."""
    if aws_conn_id is not None:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        return AwsBaseHook(aws_conn_id=aws_conn_id, client_type=service, config=client_config).get_conn()
    return boto3.client(service, region_name=region, config=client_config)


@contextmanager
def snowflake_connection(conn_id: str | None = None) -> Iterator[Any]:
    """An open Snowflake connection (closed after the block) through the Airflow connection ``conn_id``."""
    from mobile_events_elt import config
    from mobile_events_elt.config.snowflake_hook import PipelineSnowflakeHook

    conn = PipelineSnowflakeHook(snowflake_conn_id=conn_id or config.connections().snowflake).get_conn()
    try:
        yield conn
    finally:
        conn.close()
