"""Project configuration: the JSON files beside this module, with environment overrides.

Config files hold names and tuning only, never credentials. Endpoints and secrets come from the
environment (``AWS_ENDPOINT_URL``, ``AIRFLOW_CONN_*``) or the AWS default credential chain, so the
same files serve the local stack and a real account. ``PIPELINE_CONFIG_DIR`` points at another folder
of the same files (one per environment, say).
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mobile_events_elt.config.model import Connections, PipelineSettings
    from mobile_events_elt.config.validation import Problem

# The installed package's own files (a checkout's config/ under an editable install).
CONFIG_DIR = Path(str(resources.files(__name__)))


class ConfigError(ValueError):
    """A config file is missing, unreadable or breaks rules; the message names file, field and rule.

    ``problems`` lists each broken rule (``config.validation.Problem``: file, field, rule, value)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def config_dir() -> Path:
    return Path(os.environ.get("PIPELINE_CONFIG_DIR", CONFIG_DIR))


@cache
def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a JSON object")
    return data


def load(name: str) -> dict[str, Any]:
    """Return config/<name>.json as a dict (a fresh copy, so callers may modify it)."""
    return json.loads(json.dumps(_read(config_dir() / f"{name}.json")))


def settings() -> PipelineSettings:
    """Every config file, checked, with the environment's overrides, as one typed object (``config.model``)."""
    from mobile_events_elt.config import model

    return model.load()


def connections() -> Connections:
    """The Airflow connection ids (``ELT_SNOWFLAKE_CONN_ID``, ``ELT_AWS_CONN_ID``, with their defaults)."""
    from mobile_events_elt.config import model

    return model.connections()
