"""Warehouse settings: config/snowflake.json with the environment's overrides, checked as one pydantic model.

``stage_mode``: ``internal`` (files are PUT to an internal stage) or ``external`` (Snowflake reads S3 through a
storage integration); both run the same COPY statement. The overrides (``SNOWFLAKE_STAGE_MODE``,
``SNOWFLAKE_DATABASE``) and the connection ids' (``ELT_SNOWFLAKE_CONN_ID``, ``ELT_SNOWFLAKE_READ_CONN_ID``) are
named here; ``config.settings().warehouse`` is this object, a pydantic dataclass so ``dataclasses.replace``
re-checks a changed copy.
"""

from __future__ import annotations

import os

from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

from mobile_events_elt.config import files
from mobile_events_elt.config.identifiers import identifier, qualified_name
from mobile_events_elt.config.validation import validate

STAGE_MODES = ("internal", "external")
# The pipeline's Snowflake connection when neither snowflake.json nor the environment names one.
DEFAULT_CONNECTION_ID = "snowflake_default"
# Environment variable -> the snowflake.json field it overrides.
ENV_OVERRIDES = {
    "SNOWFLAKE_STAGE_MODE": "stage_mode",
    "SNOWFLAKE_DATABASE": "database",
    "ELT_SNOWFLAKE_CONN_ID": "connection_id",
    "ELT_SNOWFLAKE_READ_CONN_ID": "read_connection_id",
}


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class WarehouseSettings:
    connection_id: str = Field(default=DEFAULT_CONNECTION_ID, min_length=1, description="an Airflow connection id")
    database: str = Field(description="a plain Snowflake identifier")
    stage_mode: str = Field(description=f"one of {', '.join(STAGE_MODES)}")
    internal_stage: str = Field(description="a plain (optionally schema-qualified) Snowflake name")
    external_stage: str = Field(description="a plain (optionally schema-qualified) Snowflake name")
    freshness_hours: int = Field(
        default=24, ge=1, strict=True, description="must be a whole number of hours, at least 1"
    )
    # The connection the health page and the static report read through; absent: connection_id's.
    read_connection_id: str | None = Field(default=None, min_length=1, description="an Airflow connection id")
    # How long after its folder's hour Firehose may still write an object (it retries S3 for up to 24 hours):
    # a run lists the folders of the hours since the last complete run's listing, less this.
    late_delivery_hours: int = Field(
        default=25, ge=1, strict=True, description="must be a whole number of hours, at least 1"
    )
    # How far back the transforms and checks look for an earlier copy of a record (docs/bounded-work.md): a
    # copy loaded more than this long after the first one is not recognised as a copy.
    dedup_horizon_days: int = Field(
        default=7, ge=1, strict=True, description="must be a whole number of days, at least 1"
    )

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        return identifier(value, "database")

    @field_validator("internal_stage", "external_stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return qualified_name(value, "stage")

    @field_validator("stage_mode")
    @classmethod
    def _stage_mode(cls, value: str) -> str:
        if value not in STAGE_MODES:
            raise ValueError(f"must be one of {', '.join(STAGE_MODES)}")
        return value

    @property
    def stage(self) -> str:
        return self.internal_stage if self.stage_mode == "internal" else self.external_stage

    @property
    def read_connection(self) -> str:
        """The connection readings go through: ``read_connection_id``, else the pipeline's own."""
        return self.read_connection_id or self.connection_id


def overrides() -> dict[str, str]:
    """The snowflake.json fields the environment sets, by field name."""
    return {field: os.environ[env] for env, field in ENV_OVERRIDES.items() if os.environ.get(env)}


def load_settings() -> WarehouseSettings:
    """snowflake.json from the config folder with the environment's overrides; ConfigError names what is wrong."""
    raw = {**files.load("snowflake"), **overrides()}
    return validate(WarehouseSettings, raw, files.config_dir() / "snowflake.json")
