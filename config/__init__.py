"""Project configuration: the JSON files beside this module, with environment overrides.

Config files hold names and tuning only, never credentials. Endpoints and secrets come from the
environment (``AWS_ENDPOINT_URL``, ``AIRFLOW_CONN_*``) or the AWS default credential chain, so the
same files serve the local stack and a real account. ``PIPELINE_CONFIG_DIR`` points at another folder
of the same files (one per environment, say).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mobile_events_elt.config.files import CONFIG_DIR, ConfigError, config_dir, load

if TYPE_CHECKING:
    from mobile_events_elt.config.model import Connections, PipelineSettings


def settings() -> PipelineSettings:
    """Every config file, checked, with the environment's overrides, as one typed object (``config.model``)."""
    from mobile_events_elt.config import model

    return model.load()


def connections() -> Connections:
    """The Airflow connection ids (``ELT_SNOWFLAKE_CONN_ID``, ``ELT_AWS_CONN_ID``, with their defaults)."""
    from mobile_events_elt.config import model

    return model.connections()


__all__ = ["CONFIG_DIR", "ConfigError", "config_dir", "connections", "load", "settings"]
