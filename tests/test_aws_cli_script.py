"""cli_scripts/setup_infrastructure.sh with the real `aws` command against the emulator: it builds the same
stack as the Python CLI (so `plan` afterwards finds nothing to change), is idempotent, and tears it down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from aws_infrastructure.cli import main
from tests.test_aws_settings import config_dict, write_config

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "aws_infrastructure" / "cli_scripts" / "setup_infrastructure.sh"
VENV_BIN = Path(sys.executable).parent
AWS = VENV_BIN / "aws" if (VENV_BIN / "aws").exists() else shutil.which("aws")

pytestmark = [
    pytest.mark.skipif(AWS is None, reason="the aws command is not installed: pip install awscli==1.46.3"),
    pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed: apt-get install jq"),
]


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = f"{Path(str(AWS)).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path, **(env or {})},
        timeout=300,
    )


def plan(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["plan"]) == 0
    return capsys.readouterr().out


def python_status(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_script_builds_the_same_stack_idempotently_and_removes_it(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_dict()
    data["stream"]["retention_hours"] = 48
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / "cfg", data)))
    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN", "arn:aws:iam::210987654321:user/snowflake-x")
    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", "ACCOUNT_SFCRole=1_x")

    first = script("up")
    assert first.returncode == 0, first.stderr
    assert f"+ created S3 bucket {data['bucket']}" in first.stdout
    assert f"+ created IAM role {data['firehose']['name']}-snowflake-storage" in first.stdout
    # The Python CLI, reading the same config, finds every resource exactly as it would have made it.
    assert "Plan: no changes" in plan(capsys)
    assert all(python_status(capsys)["exists"].values())

    again = script("up")
    assert again.returncode == 0, again.stderr
    assert "+ created" not in again.stdout and "~ " not in again.stdout
    assert "Plan: no changes" in plan(capsys)

    shell_status = script("status")
    assert shell_status.returncode == 0, shell_status.stderr
    from_shell, from_python = json.loads(shell_status.stdout), python_status(capsys)
    for key in ("bucket", "landing_prefix", "stream", "delivery_stream", "region", "queue_url", "topic_arn", "exists"):
        assert from_shell[key] == from_python[key], key

    boto3.client("s3", region_name="us-east-1").put_object(Bucket=data["bucket"], Key="landing/a.gz", Body=b"x")
    refused = script("down")
    assert refused.returncode == 2 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert python_status(capsys)["exists"]["bucket"]

    removed = script("down", "--force")
    assert removed.returncode == 0, removed.stderr
    assert not any(python_status(capsys)["exists"].values())


def test_script_rejects_bad_config_and_usage(aws_endpoint: str, tmp_path: Path) -> None:
    data = config_dict()
    data["bucket"] = "Data_Stream_Bucket"
    bad = script("up", env={"PIPELINE_CONFIG_DIR": str(write_config(tmp_path / "cfg", data))})
    assert bad.returncode == 2 and "field 'bucket'" in bad.stderr
    assert script("sideways").returncode == 2
    assert script("down", "--forse").returncode == 2
