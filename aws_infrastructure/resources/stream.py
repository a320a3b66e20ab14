"""The Kinesis data stream the producers write to: provisioned with N shards, or on-demand; its retention;
server-side encryption with the account's AWS-managed Kinesis key (records at rest hold every event)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import error_code
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource, wait_until
from mobile_events_elt.config.aws_settings import Settings

# The AWS-managed key: no key policy to maintain, and producers and Firehose need no extra grant ("The use of the
# default service key for encryption does not require application of custom IAM permissions",
# https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html).
ENCRYPTION = {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}


class Stream(Resource):
    kind = "Kinesis stream"

    def __init__(self, aws: Aws, settings: Settings) -> None:
        self.settings = settings.stream
        self.name = settings.stream.name
        self.kinesis = aws.client("kinesis")
        self.arn = aws.stream_arn(self.name)

    def summary(self) -> dict[str, Any] | None:
        try:
            return self.kinesis.describe_stream_summary(StreamName=self.name)["StreamDescriptionSummary"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def exists(self) -> bool:
        return self.summary() is not None

    def _wait_active(self) -> None:
        wait_until(lambda: (self.summary() or {}).get("StreamStatus") == "ACTIVE", f"stream {self.name} to be ACTIVE")

    def changes(self) -> list[Change]:
        want = self.settings
        current = self.summary()
        if current is None:
            shards = "on-demand" if want.mode == "ON_DEMAND" else f"{want.shard_count} shard(s)"
            detail = f"{shards}, retention {want.retention_hours} h, encrypted ({ENCRYPTION['KeyId']})"
            return [self.change("create", detail, self._create)]
        changes = []
        mode = current.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        if mode != want.mode:
            changes.append(self.change("update", f"capacity mode {mode} -> {want.mode}", self._set_mode))
        if want.mode == "PROVISIONED" and current.get("OpenShardCount") != want.shard_count:
            changes.append(
                self.change(
                    "update", f"open shards {current.get('OpenShardCount')} -> {want.shard_count}", self._reshard
                )
            )
        if current["RetentionPeriodHours"] != want.retention_hours:
            detail = f"retention {current['RetentionPeriodHours']} h -> {want.retention_hours} h"
            changes.append(self.change("update", detail, lambda: self._set_retention(current["RetentionPeriodHours"])))
        if {key: current.get(key) for key in ENCRYPTION} != ENCRYPTION:
            detail = f"server-side encryption {current.get('EncryptionType', 'NONE')} -> KMS {ENCRYPTION['KeyId']}"
            changes.append(self.change("update", detail, self._encrypt))
        return changes

    def _create(self) -> None:
        want = self.settings
        kwargs: dict[str, Any] = {"StreamName": self.name, "StreamModeDetails": {"StreamMode": want.mode}}
        if want.mode == "PROVISIONED":
            kwargs["ShardCount"] = want.shard_count
        self.kinesis.create_stream(**kwargs)
        self._wait_active()
        if want.retention_hours != 24:
            self._set_retention(24)
        self._encrypt()

    def _encrypt(self) -> None:
        self._wait_active()
        self.kinesis.start_stream_encryption(StreamName=self.name, **ENCRYPTION)
        self._wait_active()

    def _set_mode(self) -> None:
        self.kinesis.update_stream_mode(StreamARN=self.arn, StreamModeDetails={"StreamMode": self.settings.mode})
        self._wait_active()

    def _reshard(self) -> None:
        self._wait_active()
        self.kinesis.update_shard_count(
            StreamName=self.name, TargetShardCount=self.settings.shard_count, ScalingType="UNIFORM_SCALING"
        )
        self._wait_active()

    def _set_retention(self, current_hours: int) -> None:
        self._wait_active()
        hours = self.settings.retention_hours
        if hours > current_hours:
            self.kinesis.increase_stream_retention_period(StreamName=self.name, RetentionPeriodHours=hours)
        else:
            self.kinesis.decrease_stream_retention_period(StreamName=self.name, RetentionPeriodHours=hours)
        self._wait_active()

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        return self.change("delete", "and the records it holds", self._delete)

    def _delete(self) -> None:
        self.kinesis.delete_stream(StreamName=self.name, EnforceConsumerDeletion=True)
        wait_until(lambda: not self.exists(), f"stream {self.name} to be deleted")

    def status(self) -> dict[str, Any]:
        current = self.summary()
        if current is None:
            return {"exists": False}
        return {
            "exists": True,
            "status": current["StreamStatus"],
            "mode": current.get("StreamModeDetails", {}).get("StreamMode"),
            "open_shards": current.get("OpenShardCount"),
            "retention_hours": current["RetentionPeriodHours"],
            "encryption": current.get("EncryptionType", "NONE"),
        }
