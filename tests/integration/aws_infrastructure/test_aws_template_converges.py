"""The CloudFormation template holds what make up converges to on the AWS emulator."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from aws_infrastructure.cli import main
from aws_infrastructure.policies import same
from aws_infrastructure.settings import load_settings
from aws_infrastructure.template import build_template
from tests.support.aws_template import resolved
from tests.unit.aws_infrastructure.test_aws_settings import config_dict, write_config


def test_the_template_holds_what_up_converges(
    aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_dict()
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path, data)))
    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN", "arn:aws:iam::123456789012:user/abc1-b-self1234")
    monkeypatch.setenv("SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID", "MYACCOUNT_SFCRole=2_abc=")
    assert main(["up"]) == 0
    capsys.readouterr()
    account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    names = {
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "SnowflakeIamUserArn": "arn:aws:iam::123456789012:user/abc1-b-self1234",
        "SnowflakeExternalId": "MYACCOUNT_SFCRole=2_abc=",
    }
    resources = resolved(build_template(load_settings())["Resources"], names)
    s3, iam = boto3.client("s3", region_name="us-east-1"), boto3.client("iam", region_name="us-east-1")
    bucket = data["bucket"]

    assert same(
        json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        resources["BucketPolicy"]["Properties"]["PolicyDocument"],
    )
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    rules = resources["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [(r["ID"], r["Filter"]["Prefix"]) for r in lifecycle] == [(r["Id"], r["Prefix"]) for r in rules]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]
    (wanted,) = resources["Bucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert (notification["QueueArn"], notification["Events"]) == (wanted["Queue"], [wanted["Event"]])

    for logical, role_name in [
        ("FirehoseRole", data["firehose"]["role_name"]),
        ("AirflowRole", f"{data['firehose']['name']}-airflow"),
        ("SnowflakeRole", f"{data['firehose']['name']}-snowflake-storage"),
    ]:
        properties = resources[logical]["Properties"]
        assert properties["RoleName"] == role_name
        role = iam.get_role(RoleName=role_name)["Role"]
        assert same(role["AssumeRolePolicyDocument"], properties["AssumeRolePolicyDocument"]), logical
        (inline,) = properties["Policies"]
        document = iam.get_role_policy(RoleName=role_name, PolicyName=inline["PolicyName"])["PolicyDocument"]
        assert same(document, inline["PolicyDocument"]), logical

    described = boto3.client("firehose", region_name="us-east-1").describe_delivery_stream(
        DeliveryStreamName=data["firehose"]["name"]
    )["DeliveryStreamDescription"]
    destination = described["Destinations"][0]["ExtendedS3DestinationDescription"]
    template_destination = resources["DeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    for key in ("RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat"):
        assert same(destination[key], template_destination[key]), key
    source = described["Source"]["KinesisStreamSourceDescription"]
    assert (
        source["KinesisStreamARN"]
        == resources["DeliveryStream"]["Properties"]["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
    )

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=resources["LandingQueue"]["Properties"]["QueueName"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "MessageRetentionPeriod"])[
        "Attributes"
    ]
    assert same(json.loads(attributes["Policy"]), resources["LandingQueuePolicy"]["Properties"]["PolicyDocument"])
    assert (
        int(attributes["MessageRetentionPeriod"]) == resources["LandingQueue"]["Properties"]["MessageRetentionPeriod"]
    )
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    summary = kinesis.describe_stream_summary(StreamName=data["stream"]["name"])["StreamDescriptionSummary"]
    stream = resources["Stream"]["Properties"]
    assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (
        stream["ShardCount"],
        stream["RetentionPeriodHours"],
    )
