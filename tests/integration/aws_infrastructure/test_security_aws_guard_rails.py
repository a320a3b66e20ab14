"""The production account's guard rails, as `mobile-events-aws up` writes them: read back from AWS,
and enforced by the emulator for callers signing as an IAM user or an assumed role.

The emulator (``local_stack/aws_emulator.py``) evaluates a bucket policy's ``aws:PrincipalArn`` conditions
with the principal of credentials it issued, as S3 does, and its unconditional statements for everyone; it
has no TLS, and moto's default credentials (the local stack's own processes) have no principal, so the
other conditional statements are checked here as documents. What they mean on AWS:
- aws:SecureTransport is "false" for a request over plain HTTP; a Deny on it refuses every such request
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
- aws:PrincipalArn is the role's ARN for a session of an assumed role, so a Deny with StringNotEquals on a
  role's ARN leaves that role's requests alone and refuses everyone else's, administrators included
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
- A lifecycle expiration is not a request by a principal: S3 performs it through internal endpoints
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-and-other-bucket-config.html), and a Deny
  on s3:DeleteObject does not stop it (to stop deletions AWS says to deny s3:PutLifecycleConfiguration too:
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html). No AWS page says
  in so many words that bucket policies do not apply to lifecycle actions; this is what they do say.
- StartStreamEncryption with KMS alias/aws/kinesis and an SNS topic's KmsMasterKeyId alias/aws/sns encrypt
  records and messages at rest with the account's AWS-managed keys
  (https://docs.aws.amazon.com/streams/latest/dev/what-is-sse.html,
  https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html).
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.cli import main
from mobile_events_elt.aws_infrastructure.provisioning import Stack
from mobile_events_elt.config import prefixes
from mobile_events_elt.config.aws_settings import load_settings
from mobile_events_elt.warehouse import listing_marker
from tests.support.aws_config import own_config

GUARD_RAILS = {
    "DenyRequestsWithoutTLS",
    "OnlyFirehoseWritesDeliveryFolders",
    "NobodyDeletesDeliveredFiles",
    "OnlyAirflowWritesState",
}
MARKER = listing_marker.MARKER_KEY
FOLDERS = ["landing/", "errors/"]
# The same folders as the ELT lists them (each with the prefix that names its objects).
LISTED = [
    listing_marker.Folder("landing/", prefixes.effective_prefix(load_settings().firehose.prefix)),
    listing_marker.Folder(
        "errors/",
        prefixes.effective_error_prefix(load_settings().firehose.prefix, load_settings().firehose.error_output_prefix),
        error_output=True,
    ),
]
LATE = timedelta(hours=25)


@pytest.fixture
def stack(aws_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A config of this test's own (unique names), provisioned once."""
    data = own_config(tmp_path / "cfg", monkeypatch)
    assert main(["up"]) == 0
    return data


@pytest.fixture
def arns(stack: dict[str, Any]) -> dict[str, str]:
    built = Stack.build(load_settings())
    return {"firehose": built.firehose_role.arn, "airflow": built.airflow_role.arn}


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


def s3_as_role(role_arn: str) -> Any:
    """An S3 client signing with a session of ``role_arn``, as Firehose or Airflow's connection would."""
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    return boto3.client(
        "s3",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def s3_as_new_user() -> Any:
    """An S3 client signing as a fresh IAM user of the account: anyone a wrong grant could let in."""
    iam = boto3.client("iam")
    name = f"intruder-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


def refused(call: Any, **kwargs: Any) -> bool:
    """Whether S3 answered 403 (the emulator's answer to a request a bucket policy denies)."""
    try:
        call(**kwargs)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


# --- the documents, as `up` writes them -----------------------------------------------------------------


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


def test_bucket_policy_guards_the_delivery_and_state_folders(stack: dict[str, Any], arns: dict[str, str]) -> None:
    bucket_arn = f"arn:aws:s3:::{stack['bucket']}"
    delivery = [f"{bucket_arn}/landing/*", f"{bucket_arn}/errors/*"]
    policy = bucket_policy(stack["bucket"])
    assert set(policy) == GUARD_RAILS
    writes = policy["OnlyFirehoseWritesDeliveryFolders"]
    assert writes["Effect"] == "Deny" and writes["Principal"] == "*"
    assert writes["Action"] == "s3:PutObject"  # multipart uploads and copies are PutObject too
    # Exactly the two folders the warehouse loads from (landing, Firehose's error output): nothing else.
    assert writes["Resource"] == delivery
    assert writes["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": firehose_role_arn(stack)}}
    assert firehose_role_arn(stack) == arns["firehose"]
    assert arns["firehose"].endswith(f":role/{stack['firehose']['role_name']}")

    deletes = policy["NobodyDeletesDeliveredFiles"]
    assert (deletes["Effect"], deletes["Principal"], deletes["Resource"]) == ("Deny", "*", delivery)
    assert deletes["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert "Condition" not in deletes  # everyone; the lifecycle rules are not requests

    state = policy["OnlyAirflowWritesState"]
    assert (state["Effect"], state["Principal"], state["Resource"]) == ("Deny", "*", f"{bucket_arn}/state/*")
    assert state["Action"] == ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert state["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": arns["airflow"]}}
    assert MARKER.startswith("state/")


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
    iam = boto3.client("iam")
    airflow_role = f"{stack['firehose']['name']}-airflow"
    iam.put_role_policy(
        RoleName=airflow_role,
        PolicyName="run-elt",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    out = up_output(capsys)
    assert "~ update S3 bucket" in out and "bucket policy" in out
    assert "~ update Kinesis stream" in out and "encryption NONE -> KMS" in out
    assert f"~ update IAM role (Airflow ELT) {airflow_role}: inline policy run-elt" in out
    assert set(bucket_policy(stack["bucket"])) == GUARD_RAILS
    assert (
        kinesis.describe_stream_summary(StreamName=stack["stream"]["name"])["StreamDescriptionSummary"][
            "EncryptionType"
        ]
        == "KMS"
    )
    assert "Nothing to change" in up_output(capsys)


# --- the guard rails, enforced for callers with an IAM principal -------------------------------------------


def test_only_the_airflow_role_writes_or_deletes_the_marker(stack: dict[str, Any], arns: dict[str, str]) -> None:
    """A forged marker makes runs skip (or fail, or run out of memory): no one but Airflow's role may write
    it, neither a user a wrong grant lets in nor another of the pipeline's roles; Airflow's role records a
    listing and finds it unchanged, through the ELT's own code."""
    bucket = stack["bucket"]
    airflow = s3_as_role(arns["airflow"])
    listing, unchanged = listing_marker.look(airflow, bucket, LISTED, LATE)
    assert (listing.marker_etag, unchanged) == (None, False)
    assert listing_marker.remember(airflow, bucket, listing)
    assert listing_marker.look(airflow, bucket, LISTED, LATE)[1] is True

    forged = json.dumps({"fingerprint": "forged", "unresolved": {}}).encode()
    for outsider in (s3_as_new_user(), s3_as_role(arns["firehose"])):
        assert refused(outsider.put_object, Bucket=bucket, Key=MARKER, Body=forged)
        assert refused(outsider.delete_object, Bucket=bucket, Key=MARKER)
        assert refused(outsider.put_object, Bucket=bucket, Key="state/other/anything.json", Body=b"{}")
        with pytest.raises(ClientError):
            listing_marker.reset(outsider, bucket)
    assert listing_marker.look(airflow, bucket, LISTED, LATE)[1] is True  # the marker is as Airflow wrote it


def test_only_the_firehose_role_writes_the_delivery_folders(stack: dict[str, Any], arns: dict[str, str]) -> None:
    bucket = stack["bucket"]
    for outsider in (s3_as_new_user(), s3_as_role(arns["airflow"])):
        for folder in FOLDERS:
            assert refused(outsider.put_object, Bucket=bucket, Key=f"{folder}planted.gz", Body=b"x")
    firehose = s3_as_role(arns["firehose"])
    for folder in FOLDERS:
        firehose.put_object(Bucket=bucket, Key=f"{folder}delivered.gz", Body=b"x")
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["errors/delivered.gz", "landing/delivered.gz"]


def test_nobody_deletes_a_delivered_file(stack: dict[str, Any], arns: dict[str, str]) -> None:
    """Not Firehose, not Airflow, not a stranger, not the local stack's own credentials; not the current
    version (a delete marker), not an older version, not in a batch."""
    bucket = stack["bucket"]
    firehose = s3_as_role(arns["firehose"])
    versions = {
        key: firehose.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"]
        for key in ("landing/year=2026/a.gz", "errors/processing-failed/b.gz")
    }
    callers = [firehose, s3_as_role(arns["airflow"]), s3_as_new_user(), boto3.client("s3")]
    for caller in callers:
        for key, version in versions.items():
            assert refused(caller.delete_object, Bucket=bucket, Key=key)
            assert refused(caller.delete_object, Bucket=bucket, Key=key, VersionId=version)
        batch = caller.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in versions]})
        assert sorted(e["Code"] for e in batch.get("Errors", [])) == ["AccessDenied", "AccessDenied"]
    listed = boto3.client("s3").list_object_versions(Bucket=bucket)
    assert sorted(v["Key"] for v in listed.get("Versions", [])) == sorted(versions)
    assert listed.get("DeleteMarkers", []) == []


def test_the_local_stack_still_writes_and_reads_its_objects(stack: dict[str, Any]) -> None:
    """moto's default credentials, which every local-stack process signs with, have no principal: the local
    Firehose writes the delivery folders and the local Airflow the marker, as before."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack["bucket"], Key="landing/year=2024/manual.gz", Body=b"x")
    assert s3.get_object(Bucket=stack["bucket"], Key="landing/year=2024/manual.gz")["Body"].read() == b"x"
    listing, _ = listing_marker.look(s3, stack["bucket"], LISTED, LATE)
    assert listing_marker.remember(s3, stack["bucket"], listing)


# --- the Airflow role's own policy ----------------------------------------------------------------------


def allowed(policy: dict[str, Any], action: str, resource: str, prefix: str | None = None) -> bool:
    """Whether an Allow statement of ``policy`` (which has no Deny) grants ``action`` on ``resource``; IAM's
    wildcards in actions and resources, and the one condition the policy uses on S3, ``s3:prefix``."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not any(fnmatch.fnmatchcase(action, a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        only_prefix = set(condition) == {"StringLike"} and set(condition["StringLike"]) == {"s3:prefix"}
        patterns = condition["StringLike"]["s3:prefix"] if only_prefix else []
        if prefix is not None and any(fnmatch.fnmatchcase(prefix, pattern) for pattern in patterns):
            return True
    return False


def test_the_airflow_role_may_do_what_the_elt_does_and_nothing_else(
    stack: dict[str, Any], arns: dict[str, str]
) -> None:
    """Its inline policy, as IAM stores it, asked about every request the ELT DAG makes (the listing, the
    files, the marker, the landing queue, the alerts) and about requests it must not be able to make."""
    iam = boto3.client("iam")
    role = arns["airflow"].rsplit("/", 1)[1]
    policy = iam.get_role_policy(RoleName=role, PolicyName="run-elt")["PolicyDocument"]
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    account = arns["airflow"].split(":")[4]
    bucket = f"arn:aws:s3:::{stack['bucket']}"
    queue = f"arn:aws:sqs:us-east-1:{account}:{stack['firehose']['name']}-landing-objects"
    topic = f"arn:aws:sns:us-east-1:{account}:{stack['firehose']['name']}-alerts"

    for folder in FOLDERS:
        assert allowed(policy, "s3:ListBucket", bucket, prefix=folder)
        assert allowed(policy, "s3:GetObject", f"{bucket}/{folder}year=2026/file.gz")
    # s3:prefix is the marker's key when S3 decides between 404 and 403 for a marker not written yet.
    assert allowed(policy, "s3:ListBucket", bucket, prefix=MARKER)
    assert allowed(policy, "s3:GetObject", f"{bucket}/{MARKER}")
    assert allowed(policy, "s3:PutObject", f"{bucket}/{MARKER}")
    assert allowed(policy, "sqs:ReceiveMessage", queue) and allowed(policy, "sqs:DeleteMessage", queue)
    assert allowed(policy, "sns:Publish", topic)
    kms = next(s for s in policy["Statement"] if s["Sid"] == "EncryptAlerts")
    assert kms["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic}}

    for folder in FOLDERS:
        assert not allowed(policy, "s3:PutObject", f"{bucket}/{folder}planted.gz")
        assert not allowed(policy, "s3:DeleteObject", f"{bucket}/{folder}year=2026/file.gz")
    assert not allowed(policy, "s3:DeleteObject", f"{bucket}/{MARKER}")
    assert not allowed(policy, "s3:ListBucket", bucket, prefix="")
    assert not allowed(policy, "s3:ListBucket", bucket, prefix=None)
    assert not allowed(policy, "s3:GetObject", f"{bucket}/other/secret.json")
    assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::another-bucket/{MARKER}")
    assert not allowed(policy, "s3:PutBucketPolicy", bucket)
    assert not allowed(policy, "sqs:SendMessage", queue) and not allowed(policy, "sqs:PurgeQueue", queue)
    assert not allowed(policy, "sns:Subscribe", topic)
    assert not allowed(policy, "kinesis:PutRecord", f"arn:aws:kinesis:us-east-1:{account}:stream/x")
    assert not allowed(policy, "iam:PassRole", arns["firehose"])
