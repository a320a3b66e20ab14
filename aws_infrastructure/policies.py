"""The IAM, S3 and SQS policy documents, built from names and ARNs, and compared the way AWS stores them.

Least privilege is the point: Firehose may read one stream and write only under the two fixed folders of
one bucket; Snowflake may only read the landing folder; S3 may send to the queue only for our bucket. The
bucket's own policy adds guard rails that hold whatever IAM grants elsewhere in the account: no request
without TLS, and nobody but the Firehose role writes under the folders the warehouse loads from.
"""

from __future__ import annotations

from typing import Any

VERSION = "2012-10-17"

Policy = dict[str, Any]


def firehose_trust(account_id: str) -> Policy:
    """Only Firehose, acting for this account (the external id AWS's confused-deputy guidance asks for)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "FirehoseAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": account_id}},
            }
        ],
    }


def firehose_delivery(stream_arn: str, bucket_arn: str, folders: list[str]) -> Policy:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadSourceStream",
                "Effect": "Allow",
                "Action": [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                "Resource": stream_arn,
            },
            {
                "Sid": "LocateBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": bucket_arn,
            },
            {
                "Sid": "WriteDeliveryFolders",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                "Resource": [f"{bucket_arn}/{folder}*" for folder in folders],
            },
        ],
    }


def snowflake_trust(iam_user_arn: str, external_id: str) -> Policy:
    """The IAM user Snowflake's storage integration runs as, with the integration's external id."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "SnowflakeStorageIntegration",
                "Effect": "Allow",
                "Principal": {"AWS": iam_user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def snowflake_read(bucket_arn: str, landing_folder: str) -> Policy:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadLanding",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{bucket_arn}/{landing_folder}*",
            },
            {
                "Sid": "ListLanding",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{landing_folder}*"]}},
            },
            {"Sid": "LocateBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arn},
        ],
    }


def bucket_guard_rails(bucket_arn: str, firehose_role_arn: str, folders: list[str]) -> Policy:
    """Explicit denies, which no Allow anywhere in the account overrides (administrators included).

    aws:PrincipalArn is the role's ARN for a session of that role, so Firehose's writes pass and a wrong
    IAM grant, a compromised producer key or a hand-made upload cannot plant objects the loader trusts.
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn)
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyRequestsWithoutTLS",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "OnlyFirehoseWritesDeliveryFolders",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"{bucket_arn}/{folder}*" for folder in folders],
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": firehose_role_arn}},
            },
        ],
    }


def queue_from_bucket(queue_arn: str, bucket_arn: str, account_id: str) -> Policy:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "BucketSendsObjectCreated",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        ],
    }


def canonical(document: Any) -> Any:
    """A form in which two equivalent documents compare equal: one-item lists as scalars, lists sorted."""
    if isinstance(document, dict):
        return {key: canonical(value) for key, value in sorted(document.items())}
    if isinstance(document, list):
        items = [canonical(item) for item in document]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=repr)
    return document


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)
