"""Warehouse settings: config/snowflake.json with the environment's overrides, checked as one pydantic model.

``stage_mode``: ``internal`` (files are PUT to an internal stage) or ``external`` (Snowflake reads S3 through a
storage integration); both run the same COPY statement. The overrides (``SNOWFLAKE_STAGE_MODE``,
``SNOWFLAKE_DATABASE``) are named in ``config.model``; ``config.settings().warehouse`` is this object, a
pydantic dataclass so ``dataclasses.replace`` re-checks a changed copy.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

import config
from config.validation import validate
from warehouse.identifiers import identifier, qualified_name

STAGE_MODES = ("internal", "external")


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class WarehouseSettings:
    connection_id: str = Field(min_length=1, description="an Airflow connection id")
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


def load_settings() -> WarehouseSettings:
    """snowflake.json from the config folder with the environment's overrides; ConfigError names what is wrong."""
    from config.model import warehouse_overrides

    raw = {**config.load("snowflake"), **warehouse_overrides()}
    return validate(WarehouseSettings, raw, config.config_dir() / "snowflake.json")
