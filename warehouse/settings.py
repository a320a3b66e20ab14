"""Warehouse settings from config/snowflake.json, validated once, with the environment's overrides.

``stage_mode``: ``internal`` (files are PUT to an internal stage) or ``external`` (Snowflake reads S3 through a
storage integration); both run the same COPY statement. The overrides (``SNOWFLAKE_STAGE_MODE``,
``SNOWFLAKE_DATABASE``) are named in ``config.model``; ``config.settings().warehouse`` is this object.
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass

import config
from warehouse.identifiers import identifier, qualified_name

STAGE_MODES = ("internal", "external")


@dataclass(frozen=True)
class WarehouseSettings:
    connection_id: str
    database: str
    stage_mode: str
    internal_stage: str
    external_stage: str
    freshness_hours: int

    @property
    def stage(self) -> str:
        return self.internal_stage if self.stage_mode == "internal" else self.external_stage


def load_settings() -> WarehouseSettings:
    from config.model import warehouse_overrides

    raw = {**config.load("snowflake"), **warehouse_overrides()}
    where = f"{config.config_dir() / 'snowflake.json'}"
    try:
        mode = raw["stage_mode"]
        if mode not in STAGE_MODES:
            raise config.ConfigError(f"{where}: stage_mode {mode!r} must be one of {', '.join(STAGE_MODES)}")
        return WarehouseSettings(
            connection_id=str(raw["connection_id"]),
            database=identifier(raw["database"], "database"),
            stage_mode=mode,
            internal_stage=qualified_name(raw["internal_stage"], "internal_stage"),
            external_stage=qualified_name(raw["external_stage"], "external_stage"),
            freshness_hours=_positive_int(raw.get("freshness_hours", 24), f"{where}: freshness_hours"),
        )
    except KeyError as exc:
        raise config.ConfigError(f"{where}: missing field {exc.args[0]!r}") from None
    except ValueError as exc:
        if isinstance(exc, config.ConfigError):
            raise
        raise config.ConfigError(f"{where}: {exc}") from None


def _positive_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise config.ConfigError(f"{what} must be a whole number of hours, at least 1 (got {value!r})")
    return value
