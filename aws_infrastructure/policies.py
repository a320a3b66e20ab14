"""The IAM, S3 and SQS policy documents, built from names and ARNs, and compared the way AWS stores them.

Least privilege is the point: Firehose may read one stream and write only under the two fixed folders of
one bucket; Snowflake may only read the landing folder; the ELT DAG's Airflow role may read and list those
folders, read and write the pipeline's state folder, hear of new landing files and publish alerts; S3 may
send to the queue only for our bucket. The bucket's own policy adds guard rails that hold whatever IAM
grants elsewhere in the account: no request without TLS, nobody but the Firehose role writes under the
folders the warehouse loads from, nobody deletes there, and nobody but the Airflow role writes the state.
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


def airflow_trust(account_arn: str, assumed_by: list[str]) -> Policy:
    """Who may assume the Airflow role: the principals Airflow's own credentials belong to (aws.json's
    ``airflow.assumed_by``: an MWAA execution role, the Helm chart's IRSA role, an instance role), whose
    connection names this role in ``role_arn``; none named, the account itself, which leaves the choice to
    the account's IAM policies: only a principal whose own policy allows sts:AssumeRole on this role may
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AirflowAssumesRole",
                "Effect": "Allow",
                "Principal": {"AWS": assumed_by or account_arn},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def airflow_elt(
    bucket_arn: str, delivery_folders: list[str], state_folder: str, queue_arn: str, topic_arn: str, kms_keys: str
) -> Policy:
    """What the ELT DAG's tasks and its queue watcher do, and nothing more.

    Listing is allowed for the three folders only (``s3:prefix``), which is also what makes S3 answer 404
    rather than 403 to the first read of a marker that does not exist yet: S3 answers NoSuchKey only to a
    caller allowed s3:ListBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). No AWS
    page says which ``s3:prefix`` that check evaluates; Ceph's S3 gateway matched AWS by evaluating it with
    the object's key (https://github.com/ceph/ceph/pull/68577), so ``state/*`` covers the marker. Publishing
    to the alerts topic, encrypted with KMS, needs kms:GenerateDataKey* and kms:Decrypt
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), here only for that topic's messages
    (the encryption context SNS passes, as in
    https://docs.amazonaws.cn/en_us/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html).
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadDeliveredFiles",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{bucket_arn}/{folder}*" for folder in delivery_folders],
            },
            {
                "Sid": "ReadWriteState",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"{bucket_arn}/{state_folder}*",
            },
            {
                "Sid": "ListPipelineFolders",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{f}*" for f in [*delivery_folders, state_folder]]}},
            },
            {
                "Sid": "HearOfLandedFiles",
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                "Resource": queue_arn,
            },
            {"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
            {
                "Sid": "EncryptAlerts",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": kms_keys,
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
            },
        ],
    }


def bucket_guard_rails(
    bucket_arn: str, firehose_role_arn: str, airflow_role_arn: str, folders: list[str], state_folder: str
) -> Policy:
    """Explicit denies, which no Allow anywhere in the account overrides (administrators included).

    aws:PrincipalArn is the role's ARN for a session of that role, so Firehose's writes pass and a wrong
    IAM grant, a compromised producer key or a hand-made upload cannot plant objects the loader trusts; the
    same rule keeps the state folder (the ELT's listing marker: a forged one makes runs skip or fail) to the
    Airflow role. Nobody may delete under the delivery folders, so a file cannot vanish before it is loaded.
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn)

    The lifecycle rules still expire those files: an expiration is not a request by a principal, so no
    policy is evaluated for it. No AWS page says so in those words. What they do say: lifecycle actions are
    performed through S3's internal endpoints, not as API requests, which is why CloudTrail does not record
    them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-and-other-bucket-config.html); and
    to stop a principal from deleting objects one must deny it s3:PutLifecycleConfiguration besides
    s3:DeleteObject and s3:DeleteObjectVersion
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html), i.e. a
    Deny on the delete actions does not stop a lifecycle rule. Changing the lifecycle rules or this policy
    stays an administrator's act (a management event CloudTrail records).
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
            {
                "Sid": "NobodyDeletesDeliveredFiles",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                "Resource": [f"{bucket_arn}/{folder}*" for folder in folders],
            },
            {
                "Sid": "OnlyAirflowWritesState",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                "Resource": f"{bucket_arn}/{state_folder}*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": airflow_role_arn}},
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
