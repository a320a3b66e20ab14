"""`mobile-events-aws` against the real moto server: plan, up (twice), status, down, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from mobile_events_elt.aws_infrastructure.cli import main
from mobile_events_elt.local_stack.ports import free_port
from tests.support.aws_config import config_dict, own_config, write_config

REPO = Path(__file__).resolve().parents[3]
RESOURCES = (
    "bucket",
    "stream",
    "firehose_role",
    "delivery_stream",
    "alerts_topic",
    "landing_queue",
    "bucket_notification",
    "airflow_role",
)


@pytest.fixture
def stack(aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A config of this test's own (unique names), selected through PIPELINE_CONFIG_DIR."""
    return own_config(tmp_path / "cfg", monkeypatch)


def reconfigure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any]) -> None:
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / uuid.uuid4().hex, data)))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def status_json() -> dict[str, Any]:
    """Through a real `mobile-events-aws` process, as other parts of the project call it."""
    done = subprocess.run(
        [sys.executable, "-m", "mobile_events_elt.aws_infrastructure", "status", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    return json.loads(done.stdout)


def test_up_twice_then_status_shows_every_resource(stack: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "up")
    assert code == 0
    assert out.count("+ create") == len(RESOURCES)
    code, out, _ = cli(capsys, "up")
    assert code == 0
    assert "Nothing to change" in out
    assert "+ " not in out and "~ " not in out

    status = status_json()
    assert all(status["exists"][name] for name in RESOURCES), status["exists"]
    assert status["exists"]["snowflake_role"] is False
    assert status["ready"] is True
    assert status["bucket"] == stack["bucket"]
    assert status["landing_prefix"] == "landing/"
    assert status["stream"] == stack["stream"]["name"]
    assert status["delivery_stream"] == stack["firehose"]["name"]
    assert status["region"] == "us-east-1"
    assert status["queue_url"].endswith(f"{stack['firehose']['name']}-landing-objects")
    assert status["topic_arn"].endswith(f":{stack['firehose']['name']}-alerts")


def test_resources_have_the_settings_the_issue_asks_for(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "up")[0] == 0
    bucket = stack["bucket"]
    s3 = boto3.client("s3", region_name="us-east-1")
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    lifecycle = {r["Filter"]["Prefix"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert lifecycle["landing/"]["Expiration"]["Days"] == 365
    assert lifecycle["errors/"]["Expiration"]["Days"] == 90

    description = boto3.client("firehose", region_name="us-east-1").describe_delivery_stream(
        DeliveryStreamName=stack["firehose"]["name"]
    )["DeliveryStreamDescription"]
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(
        f":stream/{stack['stream']['name']}"
    )
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == stack["firehose"]["prefix"]
    assert "!{firehose:error-output-type}" in destination["ErrorOutputPrefix"]
    assert destination["CompressionFormat"] == "GZIP"
    assert destination["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 0}

    policy = boto3.client("iam").get_role_policy(
        RoleName=stack["firehose"]["role_name"], PolicyName="deliver-stream-to-bucket"
    )["PolicyDocument"]
    writes = next(s for s in policy["Statement"] if s["Sid"] == "WriteDeliveryFolders")
    assert writes["Resource"] == [f"arn:aws:s3:::{bucket}/landing/*", f"arn:aws:s3:::{bucket}/errors/*"]
    reads = next(s for s in policy["Statement"] if s["Sid"] == "ReadSourceStream")
    assert "kinesis:PutRecord" not in reads["Action"] and reads["Resource"].endswith(stack["stream"]["name"])


def test_landing_objects_notify_the_queue_and_errors_do_not(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "up")[0] == 0
    queue_url = status_json()["queue_url"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.purge_queue(QueueUrl=queue_url)  # S3 sent its s3:TestEvent when the notification was configured
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=stack["bucket"], Key="errors/processing-failed/x.gz", Body=b"x")
    s3.put_object(Bucket=stack["bucket"], Key="landing/year=2024/a.gz", Body=b"x")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]]
    keys = [r["s3"]["object"]["key"] for body in bodies for r in json.loads(body).get("Records", [])]
    # Keys in S3 event messages are URL-encoded (AWS and moto alike).
    assert [unquote_plus(k) for k in keys] == ["landing/year=2024/a.gz"]


def test_plan_shows_what_up_would_do_and_changes_nothing(
    stack: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "plan")
    assert code == 0
    for kind in (
        "S3 bucket",
        "Kinesis stream",
        "IAM role (Firehose delivery)",
        "Firehose delivery stream",
        "SNS topic",
        "IAM role (Airflow ELT)",
    ):
        assert f"+ create {kind}" in out
    assert f"Plan: {len(RESOURCES)} change(s)." in out
    assert "! skip IAM role (Snowflake storage integration)" in out
    assert not status_json()["exists"]["bucket"]

    assert cli(capsys, "up")[0] == 0
    changed = json.loads(json.dumps(stack))
    changed["firehose"]["buffering"] = {"size_mib": 2, "interval_seconds": 30}
    changed["stream"]["shard_count"] = 2
    reconfigure(tmp_path, monkeypatch, changed)
    code, out, _ = cli(capsys, "plan")
    assert "~ update Kinesis stream" in out and "open shards 1 -> 2" in out
    assert "~ update Firehose delivery stream" in out and "BufferingHints" in out
    assert "Plan: 2 change(s)." in out

    assert cli(capsys, "up")[0] == 0
    assert "Plan: no changes" in cli(capsys, "plan")[1]
    description = boto3.client("firehose", region_name="us-east-1").describe_delivery_stream(
        DeliveryStreamName=stack["firehose"]["name"]
    )["DeliveryStreamDescription"]
    assert description["VersionId"] == "2"
    assert status_json()["details"]["stream"]["open_shards"] == 2


def test_down_refuses_a_non_empty_bucket_then_force_removes_everything(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "up")[0] == 0
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=stack["bucket"], Key="landing/x.gz", Body=b"x")

    code, out, err = cli(capsys, "down")
    assert code == 2
    assert "not empty" in err and "--force" in err and "nothing was deleted" in err
    assert all(status_json()["exists"][name] for name in RESOURCES)

    code, out, _ = cli(capsys, "down", "--force")
    assert code == 0
    assert out.count("- delete") == len(RESOURCES)
    status = status_json()
    assert not any(status["exists"].values()), status["exists"]
    assert status["queue_url"] is None and status["topic_arn"] is None
    assert "Nothing to remove" in cli(capsys, "down")[1]


def test_snowflake_role_trusts_the_integration_identity(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = "arn:aws:iam::210987654321:user/abc1-b-self1234"
    code, _, err = cli(capsys, "up", "--snowflake-iam-user-arn", user)
    assert code == 2 and "external id" in err

    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN", user)
    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", "MYACCOUNT_SFCRole=2_abc=")
    code, out, _ = cli(capsys, "up")
    assert code == 0 and "+ create IAM role (Snowflake storage integration)" in out
    assert status_json()["exists"]["snowflake_role"] is True
    role = boto3.client("iam").get_role(RoleName=f"{stack['firehose']['name']}-snowflake-storage")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": user}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "MYACCOUNT_SFCRole=2_abc="}}

    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", "rotated-id")
    code, out, _ = cli(capsys, "up")
    assert "~ update IAM role (Snowflake storage integration)" in out and "trust policy" in out


def test_exit_codes_and_actionable_messages(
    stack: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads(json.dumps(stack))
    bad["bucket"] = "Bad_Bucket"
    reconfigure(tmp_path, monkeypatch, bad)
    code, _, err = cli(capsys, "plan")
    assert code == 2 and "aws.json: field 'bucket'" in err

    reconfigure(tmp_path, monkeypatch, stack)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, _, err = cli(capsys, "status")
    assert code == 1 and "cannot reach" in err and "AWS_ENDPOINT_URL" in err

    with pytest.raises(SystemExit) as usage:
        main(["down", "--forse"])
    assert usage.value.code == 2


def test_on_demand_stream_converges_without_shard_drift(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_dict()
    data["stream"] = {"name": data["stream"]["name"], "mode": "ON_DEMAND", "retention_hours": 72}
    reconfigure(tmp_path, monkeypatch, data)
    code, out, _ = cli(capsys, "up")
    assert code == 0 and "on-demand, retention 72 h" in out
    assert "Plan: no changes" in cli(capsys, "plan")[1]
    details = status_json()["details"]["stream"]
    assert (details["mode"], details["retention_hours"]) == ("ON_DEMAND", 72)
