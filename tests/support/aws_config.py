"""An aws.json of a test's own: the checked-in file with unique names, written to a folder."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest


def config_dict(suffix: str | None = None, **firehose: Any) -> dict[str, Any]:
    """A valid aws.json with names unique to one test, so tests never collide on the shared emulator."""
    s = suffix or uuid.uuid4().hex[:10]
    return {
        "region": "us-east-1",
        "bucket": f"test-landing-{s}",
        "stream": {"name": f"test-stream-{s}", "shard_count": 1, "retention_hours": 24},
        "firehose": {
            "name": f"test-firehose-{s}",
            "role_name": f"test-firehose-role-{s}",
            "prefix": "landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            "error_output_prefix": "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/",
            "compression": "GZIP",
            "buffering": {"size_mib": 1, "interval_seconds": 0},
            **firehose,
        },
    }


def write_config(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "aws.json").write_text(json.dumps(data, indent=2))
    return directory


def own_config(directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A config of the test's own (unique names), written to ``directory`` and selected through
    PIPELINE_CONFIG_DIR, with no Snowflake storage integration identity from the developer's environment."""
    data = config_dict()
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(directory, data)))
    monkeypatch.delenv("SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN", raising=False)
    monkeypatch.delenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", raising=False)
    return data
