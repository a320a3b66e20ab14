"""The production account's guard rails, as `python -m aws_infrastructure up` writes them, read back from AWS.

The AWS emulator does not enforce bucket policies the way S3 does (it has no TLS and no IAM principals to
evaluate the conditions with), so these tests check the documents themselves: what real S3, Kinesis and SNS
would be told. What they mean on AWS:
- aws:SecureTransport is "false" for a request over plain HTTP; a Deny on it refuses every such request
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
- aws:PrincipalArn is the role's ARN for a session of an assumed role, so a Deny with StringNotEquals on the
  Firehose role's ARN leaves Firehose's writes alone and refuses everyone else's, administrators included
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
- StartStreamEncryption with KMS alias/aws/kinesis and an SNS topic's KmsMasterKeyId alias/aws/sns encrypt
  records and messages at rest with the account's AWS-managed keys
  (https://docs.aws.amazon.com/streams/latest/dev/what-is-sse.html,
  https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from aws_infrastructure.cli import main
from tests.test_aws_settings import config_dict, write_config


@pytest.fixture
def stack(aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A config of this test's own (unique names), provisioned once."""
    data = config_dict()
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / "cfg", data)))
    monkeypatch.delenv("SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN", raising=False)
    monkeypatch.delenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", raising=False)
    assert main(["up"]) == 0
    return data


def up_output(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["up"]) == 0
    return capsys.readouterr().out


def firehose_role_arn(stack: dict[str, Any]) -> str:
    """The role the delivery stream really writes with, as Firehose describes it."""
    description = boto3.client("firehose").describe_delivery_stream(DeliveryStreamName=stack["firehose"]["name"])
    return description["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]["RoleARN"]


def bucket_policy(bucket: str) -> dict[str, Any]:
    return {s["Sid"]: s for s in json.loads(boto3.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]}


def test_bucket_policy_denies_requests_without_tls(stack: dict[str, Any]) -> None:
    bucket_arn = f"arn:aws:s3:::{stack['bucket']}"
    statement = bucket_policy(stack["bucket"])["DenyRequestsWithoutTLS"]
    assert statement == {
        "Sid": "DenyRequestsWithoutTLS",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_bucket_policy_lets_only_the_firehose_role_write_the_delivery_folders(stack: dict[str, Any]) -> None:
    bucket_arn = f"arn:aws:s3:::{stack['bucket']}"
    policy = bucket_policy(stack["bucket"])
    assert set(policy) == {"DenyRequestsWithoutTLS", "OnlyFirehoseWritesDeliveryFolders"}
    statement = policy["OnlyFirehoseWritesDeliveryFolders"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "s3:PutObject"  # multipart uploads and copies are PutObject too
    # Exactly the two folders the warehouse loads from (landing, Firehose's error output): nothing else.
    assert statement["Resource"] == [f"{bucket_arn}/landing/*", f"{bucket_arn}/errors/*"]
    assert statement["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": firehose_role_arn(stack)}}
    assert firehose_role_arn(stack).endswith(f":role/{stack['firehose']['role_name']}")


def test_stream_and_topic_are_encrypted_with_the_aws_managed_keys(stack: dict[str, Any]) -> None:
    summary = boto3.client("kinesis").describe_stream_summary(StreamName=stack["stream"]["name"])
    assert {k: summary["StreamDescriptionSummary"].get(k) for k in ("EncryptionType", "KeyId")} == {
        "EncryptionType": "KMS",
        "KeyId": "alias/aws/kinesis",
    }
    sns = boto3.client("sns")
    (topic_arn,) = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{stack['firehose']['name']}-alerts")
    ]
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_second_up_changes_nothing_and_drift_is_put_back(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Nothing to change" in up_output(capsys)
    s3 = boto3.client("s3")
    s3.delete_bucket_policy(Bucket=stack["bucket"])
    kinesis = boto3.client("kinesis")
    kinesis.stop_stream_encryption(StreamName=stack["stream"]["name"], EncryptionType="KMS", KeyId="alias/aws/kinesis")
    out = up_output(capsys)
    assert "~ update S3 bucket" in out and "bucket policy" in out
    assert "~ update Kinesis stream" in out and "encryption NONE -> KMS" in out
    assert set(bucket_policy(stack["bucket"])) == {"DenyRequestsWithoutTLS", "OnlyFirehoseWritesDeliveryFolders"}
    assert (
        kinesis.describe_stream_summary(StreamName=stack["stream"]["name"])["StreamDescriptionSummary"][
            "EncryptionType"
        ]
        == "KMS"
    )
    assert "Nothing to change" in up_output(capsys)


def test_the_local_stack_still_writes_and_reads_landing_objects(stack: dict[str, Any]) -> None:
    """The emulator's workaround: moto would otherwise answer 403 to every object request under this policy."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack["bucket"], Key="landing/year=2024/manual.gz", Body=b"x")
    assert s3.get_object(Bucket=stack["bucket"], Key="landing/year=2024/manual.gz")["Body"].read() == b"x"
