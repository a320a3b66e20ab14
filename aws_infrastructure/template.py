"""A CloudFormation template of the same resources `up` converges, generated from the same definitions.

The resources are built exactly as `up` builds them (``Stack.build``), but on ``TemplateAws``, whose ARNs are
``Fn::Sub`` strings over the stack's own account, partition and region; their desired state (policies,
bucket settings, delivery destination, queue attributes) is then written out in CloudFormation's shapes. So
there is one definition of the resources: `up` for those who provision with boto3, this template for those
who review and deploy CloudFormation.
"""

from __future__ import annotations

import json
from typing import Any

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.provisioning import SnowflakeIdentity, Stack
from mobile_events_elt.aws_infrastructure.resources import bucket as bucket_module
from mobile_events_elt.aws_infrastructure.resources import messaging, stream
from mobile_events_elt.aws_infrastructure.resources.role import Role
from mobile_events_elt.config.aws_settings import Settings

SNOWFLAKE_CONDITION = "HasSnowflakeIdentity"


class TemplateAws(Aws):
    """ARNs as CloudFormation substitutions; resources keep no client, since the template calls nothing."""

    account_id = "${AWS::AccountId}"  # type: ignore[assignment]
    partition = "${AWS::Partition}"  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__("${AWS::Region}")

    def client(self, service: str) -> Any:
        return None


def substituted(value: Any) -> Any:
    """Every string that names a ``${...}`` (pseudo parameter or template parameter) becomes ``Fn::Sub``."""
    if isinstance(value, dict):
        return {key: substituted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [substituted(item) for item in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    return value


def _role(role: Role) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": role.name,
            "Description": role.description,
            "AssumeRolePolicyDocument": role.trust(),
            "Policies": [{"PolicyName": role.policy_name, "PolicyDocument": role.policy()}],
        },
    }


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule of ``resources.bucket.lifecycle_rules`` (the S3 API's shape) in CloudFormation's shape."""
    out: dict[str, Any] = {"Id": rule["ID"], "Status": rule["Status"], "Prefix": rule["Filter"]["Prefix"]}
    if "Transitions" in rule:
        out["Transitions"] = [
            {"TransitionInDays": t["Days"], "StorageClass": t["StorageClass"]} for t in rule["Transitions"]
        ]
    if "Expiration" in rule:
        out["ExpirationInDays"] = rule["Expiration"]["Days"]
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return out


def _bucket(stack: Stack) -> dict[str, Any]:
    notification = stack.landing_notification.wanted
    return {
        "Type": "AWS::S3::Bucket",
        # As `down` refuses to delete a bucket that holds objects, a stack deletion keeps it.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        # S3 checks that it may send to the queue when the notification is set.
        "DependsOn": ["LandingQueuePolicy"],
        "Properties": {
            "BucketName": stack.bucket.name,
            "PublicAccessBlockConfiguration": bucket_module.PUBLIC_ACCESS_BLOCK,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"]}
                    for rule in bucket_module.ENCRYPTION["Rules"]
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [_lifecycle_rule(rule) for rule in bucket_module.lifecycle_rules(stack.settings)]
            },
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Event": event,
                        "Queue": notification["QueueArn"],
                        "Filter": {"S3Key": {"Rules": notification["Filter"]["Key"]["FilterRules"]}},
                    }
                    for event in notification["Events"]
                ]
            },
        },
    }


def _stream(stack: Stack) -> dict[str, Any]:
    want = stack.stream.settings
    properties: dict[str, Any] = {
        "Name": stack.stream.name,
        "StreamModeDetails": {"StreamMode": want.mode},
        "RetentionPeriodHours": want.retention_hours,
        "StreamEncryption": stream.ENCRYPTION,
    }
    if want.mode == "PROVISIONED":
        properties["ShardCount"] = want.shard_count
    # Records expire within days and `down` deletes the stream too.
    return {
        "Type": "AWS::Kinesis::Stream",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": properties,
    }


def _delivery_stream(stack: Stack) -> dict[str, Any]:
    delivery = stack.delivery_stream
    return {
        "Type": "AWS::KinesisFirehose::DeliveryStream",
        "DependsOn": ["FirehoseRole", "Stream", "Bucket"],
        "Properties": {
            "DeliveryStreamName": delivery.name,
            "DeliveryStreamType": "KinesisStreamAsSource",
            "KinesisStreamSourceConfiguration": delivery.source,
            "ExtendedS3DestinationConfiguration": delivery.destination,
        },
    }


def build_template(settings: Settings) -> dict[str, Any]:
    """The template for ``settings``; the Snowflake role is created only when both of its parameters are set."""
    identity = SnowflakeIdentity("${SnowflakeIamUserArn}", "${SnowflakeExternalId}")
    stack = Stack.build(settings, identity, aws=TemplateAws())
    queue = stack.landing_queue
    snowflake_role = _role(stack.snowflake_role)
    snowflake_role["Condition"] = SNOWFLAKE_CONDITION
    resources = {
        "Bucket": _bucket(stack),
        "BucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": stack.bucket.policy},
        },
        "Stream": _stream(stack),
        "FirehoseRole": _role(stack.firehose_role),
        "DeliveryStream": _delivery_stream(stack),
        "AlertsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": stack.alerts_topic.name, "KmsMasterKeyId": messaging.TOPIC_KEY},
        },
        "LandingQueue": {
            "Type": "AWS::SQS::Queue",
            # Its messages only say "look at S3 again"; `down` deletes it too.
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": queue.name,
                "MessageRetentionPeriod": int(queue.attributes["MessageRetentionPeriod"]),
            },
        },
        "LandingQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {"Queues": [{"Ref": "LandingQueue"}], "PolicyDocument": queue.attributes["Policy"]},
        },
        "AirflowRole": _role(stack.airflow_role),
        "SnowflakeRole": snowflake_role,
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"mobile-events-elt AWS resources (generated by `mobile-events-aws template` "
        f"from {settings.file.name})",
        "Parameters": {
            "SnowflakeIamUserArn": {
                "Type": "String",
                "Default": "",
                "Description": "STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION (empty: no Snowflake role yet)",
            },
            "SnowflakeExternalId": {
                "Type": "String",
                "Default": "",
                "Description": "STORAGE_AWS_EXTERNAL_ID from DESC INTEGRATION",
            },
        },
        "Conditions": {
            SNOWFLAKE_CONDITION: {
                "Fn::And": [
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "SnowflakeIamUserArn"}, ""]}]},
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "SnowflakeExternalId"}, ""]}]},
                ]
            }
        },
        "Resources": substituted(resources),
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bucket"}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}},
            "DeliveryStreamArn": {"Value": {"Fn::GetAtt": ["DeliveryStream", "Arn"]}},
            "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
            "LandingQueueUrl": {"Value": {"Ref": "LandingQueue"}},
            "AirflowRoleArn": {"Value": {"Fn::GetAtt": ["AirflowRole", "Arn"]}},
            "SnowflakeRoleArn": {
                "Condition": SNOWFLAKE_CONDITION,
                "Value": {"Fn::GetAtt": ["SnowflakeRole", "Arn"]},
            },
        },
    }


def render(settings: Settings) -> str:
    return json.dumps(build_template(settings), indent=2) + "\n"
