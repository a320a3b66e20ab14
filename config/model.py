"""The pipeline's configuration as one typed object: the three config files and the environment.

``config.settings()`` (this module's ``load``) returns a ``PipelineSettings``: ``aws`` (config/aws.json),
``warehouse`` (config/snowflake.json), ``generator`` (config/generator.json) and ``connections`` (the Airflow
connection ids). Each section is a pydantic model (``config.aws_settings``, ``config.warehouse_settings``,
``config.generator_settings``) checked the one way ``config.validation`` states: every problem names the file,
the field path and the rule, all at once in one ``ConfigError``. The environment overrides:
``SNOWFLAKE_STAGE_MODE``, ``SNOWFLAKE_DATABASE``, ``ELT_SNOWFLAKE_CONN_ID`` and ``ELT_SNOWFLAKE_READ_CONN_ID``
(``config.warehouse_settings.ENV_OVERRIDES``) and ``ELT_AWS_CONN_ID``; ``PIPELINE_CONFIG_DIR`` picks another
folder of the same files.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mobile_events_elt.config import files
from mobile_events_elt.config.aws_settings import Settings as AwsSettings
from mobile_events_elt.config.aws_settings import load_settings as load_aws
from mobile_events_elt.config.generator_settings import GeneratorSettings
from mobile_events_elt.config.generator_settings import load_settings as load_generator
from mobile_events_elt.config.warehouse_settings import WarehouseSettings
from mobile_events_elt.config.warehouse_settings import load_settings as load_warehouse

# The pipeline's AWS connection when the environment names none.
DEFAULT_AWS_CONNECTION_ID = "aws_default"


class Connections(BaseModel):
    """The Airflow connection ids the DAGs and ``mobile-events-warehouse`` use: ``snowflake_read`` is the one the
    health page and the static report read through (a read-only role where the account has one)."""

    model_config = ConfigDict(frozen=True)

    snowflake: str = Field(min_length=1)
    snowflake_read: str = Field(min_length=1)
    aws: str = Field(min_length=1)


def connections(warehouse: WarehouseSettings | None = None) -> Connections:
    """The Snowflake ids of ``warehouse`` (else snowflake.json's, with the environment's overrides: one default,
    ``config.warehouse_settings.DEFAULT_CONNECTION_ID``); ``ELT_AWS_CONN_ID`` (else ``aws_default``)."""
    warehouse = warehouse or load_warehouse()
    aws = os.environ.get("ELT_AWS_CONN_ID") or DEFAULT_AWS_CONNECTION_ID
    return Connections(snowflake=warehouse.connection_id, snowflake_read=warehouse.read_connection, aws=aws)


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
    errors: list[files.ConfigError] = []
    for name, read in (("aws", load_aws), ("warehouse", load_warehouse), ("generator", load_generator)):
        try:
            sections[name] = read()
        except files.ConfigError as exc:
            errors.append(exc)
    if errors:
        raise files.ConfigError("\n".join(map(str, errors)), [p for exc in errors for p in exc.problems])
    return PipelineSettings(**sections, connections=connections(sections["warehouse"]))


__all__ = ["AwsSettings", "Connections", "GeneratorSettings", "PipelineSettings", "WarehouseSettings", "load"]
