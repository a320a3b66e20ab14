"""The config files: where they are, how one is read, and the error that names what is wrong in one.

The bottom of the settings layer: the settings models (``config.aws_settings`` and the others) read their files
through this module and nothing above it.
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

    from mobile_events_elt.config.validation import Problem

# The installed package's own files (a checkout's config/ under an editable install).
CONFIG_DIR = Path(str(resources.files("mobile_events_elt.config")))


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
