"""The pipeline's configuration as one typed object: the three config files and the environment.

``config.settings()`` (this module's ``load``) returns a ``PipelineSettings``: ``aws`` (config/aws.json),
``warehouse`` (config/snowflake.json), ``generator`` (config/generator.json) and ``connections`` (the Airflow
connection ids). Each section is a pydantic model checked the one way ``config.validation`` states: every
problem names the file, the field path and the rule, all at once in one ``ConfigError``. The environment
overrides, each named here: ``SNOWFLAKE_STAGE_MODE`` and ``SNOWFLAKE_DATABASE`` (warehouse),
``ELT_SNOWFLAKE_CONN_ID``, ``ELT_SNOWFLAKE_READ_CONN_ID`` and ``ELT_AWS_CONN_ID`` (connections);
``PIPELINE_CONFIG_DIR`` picks another folder of the same files.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

import config
from aws_infrastructure.settings import Settings as AwsSettings
from aws_infrastructure.settings import load_settings as load_aws
from data_generation.settings import GeneratorSettings
from data_generation.settings import load_settings as load_generator
from warehouse.settings import WarehouseSettings
from warehouse.settings import load_settings as load_warehouse

# Environment variable -> the config file field it overrides.
WAREHOUSE_ENV_OVERRIDES = {"SNOWFLAKE_STAGE_MODE": "stage_mode", "SNOWFLAKE_DATABASE": "database"}


def warehouse_overrides() -> dict[str, str]:
    """The snowflake.json fields the environment sets, by field name."""
    return {field: os.environ[env] for env, field in WAREHOUSE_ENV_OVERRIDES.items() if os.environ.get(env)}


class Connections(BaseModel):
    """The Airflow connection ids the DAGs and ``python -m warehouse`` use: ``snowflake_read`` is the one the
    health page and the static report read through (a read-only role where the account has one)."""

    model_config = ConfigDict(frozen=True)

    snowflake: str = Field(min_length=1)
    snowflake_read: str = Field(min_length=1)
    aws: str = Field(min_length=1)


def connections() -> Connections:
    """``ELT_SNOWFLAKE_CONN_ID`` (else snowflake.json's ``connection_id``); ``ELT_SNOWFLAKE_READ_CONN_ID`` (else
    snowflake.json's ``read_connection_id``, else the pipeline's own connection id); ``ELT_AWS_CONN_ID`` (else
    ``aws_default``)."""
    warehouse = config.load("snowflake")
    snowflake = os.environ.get("ELT_SNOWFLAKE_CONN_ID") or str(warehouse.get("connection_id") or "")
    snowflake = snowflake or "snowflake_default"
    read = os.environ.get("ELT_SNOWFLAKE_READ_CONN_ID") or str(warehouse.get("read_connection_id") or "")
    aws = os.environ.get("ELT_AWS_CONN_ID") or "aws_default"
    return Connections(snowflake=snowflake, snowflake_read=read or snowflake, aws=aws)


class PipelineSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    aws: AwsSettings
    warehouse: WarehouseSettings
    generator: GeneratorSettings
    connections: Connections


def load() -> PipelineSettings:
    """Read and check every config file with the environment's overrides; one ConfigError names every problem
    in every file."""
    sections: dict[str, Any] = {}
    errors: list[config.ConfigError] = []
    for name, read in (("aws", load_aws), ("warehouse", load_warehouse), ("generator", load_generator)):
        try:
            sections[name] = read()
        except config.ConfigError as exc:
            errors.append(exc)
    if errors:
        raise config.ConfigError("\n".join(map(str, errors)), [p for exc in errors for p in exc.problems])
    return PipelineSettings(**sections, connections=connections())


__all__ = ["AwsSettings", "Connections", "GeneratorSettings", "PipelineSettings", "WarehouseSettings", "load"]
