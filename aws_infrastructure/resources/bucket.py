"""The landing bucket: private, encrypted by default, versioned, with lifecycle rules per folder and a policy.

Versioning keeps an overwritten or deleted landing file recoverable until the warehouse has loaded it;
the lifecycle rules then bound what that costs (noncurrent versions expire, errors expire sooner). The
bucket policy (``policies.bucket_guard_rails``) refuses requests without TLS, writes under the delivery
folders by anyone but the Firehose role, deletes there by anyone, and writes under the state folder by
anyone but the Airflow role.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import InfrastructureError, UsageError, error_code
from mobile_events_elt.aws_infrastructure.policies import Policy, bucket_guard_rails, same
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource
from mobile_events_elt.config.aws_settings import Settings

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
GUARD_RAILS = (
    "TLS only; only the Firehose role writes the delivery folders and nobody deletes there; "
    "only the Airflow role writes the state folder"
)


def lifecycle_rules(settings: Settings) -> list[dict[str, Any]]:
    life = settings.lifecycle
    return [
        {
            "ID": "landing-files",
            "Status": "Enabled",
            "Filter": {"Prefix": settings.firehose.landing_prefix},
            "Transitions": [{"Days": life.landing_transition_to_ia_days, "StorageClass": "STANDARD_IA"}],
            "Expiration": {"Days": life.landing_expiration_days},
        },
        {
            "ID": "delivery-errors",
            "Status": "Enabled",
            "Filter": {"Prefix": settings.firehose.error_prefix},
            "Expiration": {"Days": life.error_expiration_days},
        },
        {
            "ID": "old-versions-and-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": life.noncurrent_version_expiration_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": life.abort_incomplete_multipart_days},
        },
    ]


class Bucket(Resource):
    kind = "S3 bucket"

    def __init__(self, aws: Aws, settings: Settings) -> None:
        self.aws = aws
        self.settings = settings
        self.name = settings.bucket
        self.s3 = aws.client("s3")
        fh = settings.firehose
        self.policy: Policy = bucket_guard_rails(
            aws.bucket_arn(self.name),
            aws.role_arn(fh.role_name),
            aws.role_arn(settings.airflow_role_name),
            [fh.landing_prefix, fh.error_prefix],
            settings.state_prefix,
        )

    def exists(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.name)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error_code(exc) in ("404", "NoSuchBucket"):
                return False
            if status == 403:
                raise InfrastructureError(
                    f"bucket {self.name!r} exists but these credentials cannot use it (another account owns it?); "
                    f"choose another name in {self.settings.file} field 'bucket'"
                ) from exc
            raise
        return True

    def _get(self, call: str, key: str, missing: tuple[str, ...]) -> Any:
        try:
            return getattr(self.s3, call)(Bucket=self.name)[key]
        except ClientError as exc:
            if error_code(exc) in missing:
                return None
            raise

    def _settings_drift(self) -> list[tuple[str, Any]]:
        """(what, apply function) for each bucket setting that differs from the config."""
        drift: list[tuple[str, Any]] = []
        pab = self._get(
            "get_public_access_block", "PublicAccessBlockConfiguration", ("NoSuchPublicAccessBlockConfiguration",)
        )
        if pab != PUBLIC_ACCESS_BLOCK:
            drift.append(("block all public access", self._put_public_access_block))
        encryption = self._get(
            "get_bucket_encryption",
            "ServerSideEncryptionConfiguration",
            ("ServerSideEncryptionConfigurationNotFoundError",),
        )
        algorithms = [
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            for r in (encryption or {}).get("Rules", [])
        ]
        if "AES256" not in algorithms and "aws:kms" not in algorithms:
            drift.append(("default encryption (SSE-S3)", self._put_encryption))
        policy = self._get("get_bucket_policy", "Policy", ("NoSuchBucketPolicy",))
        if policy is None or not same(json.loads(policy), self.policy):
            drift.append((f"bucket policy ({GUARD_RAILS})", self._put_policy))
        if self.s3.get_bucket_versioning(Bucket=self.name).get("Status") != "Enabled":
            drift.append(("enable versioning", self._put_versioning))
        rules = self._get("get_bucket_lifecycle_configuration", "Rules", ("NoSuchLifecycleConfiguration",))
        if not same(rules or [], lifecycle_rules(self.settings)):
            drift.append(
                (
                    f"lifecycle rules ({self.settings.firehose.landing_prefix}, {self.settings.firehose.error_prefix})",
                    self._put_lifecycle,
                )
            )
        return drift

    def changes(self) -> list[Change]:
        if not self.exists():
            folders = f"{self.settings.firehose.landing_prefix}, {self.settings.firehose.error_prefix}"
            return [
                self.change(
                    "create",
                    f"public access blocked, SSE-S3 encryption, versioning, lifecycle rules ({folders}), "
                    f"a policy: {GUARD_RAILS}",
                    self._create,
                )
            ]
        return [self.change("update", what, apply) for what, apply in self._settings_drift()]

    def _create(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.name}
        if self.aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
        try:
            self.s3.create_bucket(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "BucketAlreadyExists":
                raise InfrastructureError(
                    f"bucket name {self.name!r} is taken by another AWS account (bucket names are global); "
                    f"choose another in {self.settings.file} field 'bucket'"
                ) from exc
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
        self.s3.get_waiter("bucket_exists").wait(Bucket=self.name)
        for _, apply in self._settings_drift():
            apply()

    def _put_public_access_block(self) -> None:
        self.s3.put_public_access_block(Bucket=self.name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)

    def _put_encryption(self) -> None:
        self.s3.put_bucket_encryption(Bucket=self.name, ServerSideEncryptionConfiguration=ENCRYPTION)

    def _put_policy(self) -> None:
        self.s3.put_bucket_policy(Bucket=self.name, Policy=json.dumps(self.policy))

    def _put_versioning(self) -> None:
        self.s3.put_bucket_versioning(Bucket=self.name, VersioningConfiguration={"Status": "Enabled"})

    def _put_lifecycle(self) -> None:
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.name, LifecycleConfiguration={"Rules": lifecycle_rules(self.settings)}
        )

    def _versions(self) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.name):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        return found

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        versions = self._versions()
        if versions and not force:
            raise UsageError(
                f"bucket {self.name} is not empty ({len(versions)} object versions); nothing was deleted. "
                "Run `down --force` to delete its contents and the bucket with everything else"
            )
        detail = (
            f"and its {len(versions)} object versions (its policy first: it forbids deleting delivered files)"
            if versions
            else "(empty)"
        )
        return self.change("delete", detail, self._delete)

    def _delete(self) -> None:
        """The policy goes first: its Deny on deleting delivered files binds everyone, this caller included."""
        self.s3.delete_bucket_policy(Bucket=self.name)
        versions = self._versions()
        for start in range(0, len(versions), 1000):
            self.s3.delete_objects(Bucket=self.name, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
        self.s3.delete_bucket(Bucket=self.name)
