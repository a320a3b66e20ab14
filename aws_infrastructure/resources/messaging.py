"""The alerts topic, and the queue that hears about every new landing object (event-driven loading).

S3 notifies the queue of ObjectCreated under the landing folder only, so error objects never trigger a
load. The queue's policy lets only our bucket, in our account, send to it. The topic is encrypted at rest
with the account's AWS-managed SNS key (alerts carry failure details).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import InfrastructureError, error_code
from mobile_events_elt.aws_infrastructure.policies import queue_from_bucket, same
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource
from mobile_events_elt.config.aws_settings import Settings

NOTIFICATION_ID = "landing-object-created"
TOPIC_KEY = "alias/aws/sns"


class AlertsTopic(Resource):
    kind = "SNS topic"

    def __init__(self, aws: Aws, settings: Settings) -> None:
        self.name = settings.alerts_topic
        self.sns = aws.client("sns")
        self.arn = aws.topic_arn(self.name)

    def attributes(self) -> dict[str, str] | None:
        try:
            return self.sns.get_topic_attributes(TopicArn=self.arn)["Attributes"]
        except ClientError as exc:
            if error_code(exc) == "NotFound":
                return None
            raise

    def exists(self) -> bool:
        return self.attributes() is not None

    def changes(self) -> list[Change]:
        attributes = self.attributes()
        if attributes is None:
            return [self.change("create", f"for pipeline alerts, encrypted ({TOPIC_KEY})", self._create)]
        if attributes.get("KmsMasterKeyId") == TOPIC_KEY:
            return []
        return [self.change("update", f"server-side encryption ({TOPIC_KEY})", self._encrypt)]

    def _create(self) -> None:
        self.sns.create_topic(Name=self.name, Attributes={"KmsMasterKeyId": TOPIC_KEY})

    def _encrypt(self) -> None:
        self.sns.set_topic_attributes(TopicArn=self.arn, AttributeName="KmsMasterKeyId", AttributeValue=TOPIC_KEY)

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        return self.change("delete", "and its subscriptions", lambda: self.sns.delete_topic(TopicArn=self.arn))


class LandingQueue(Resource):
    kind = "SQS queue"

    def __init__(self, aws: Aws, settings: Settings) -> None:
        self.name = settings.landing_queue
        self.sqs = aws.client("sqs")
        self.arn = aws.queue_arn(self.name)
        self.attributes = {
            "Policy": queue_from_bucket(self.arn, aws.bucket_arn(settings.bucket), aws.account_id),
            "MessageRetentionPeriod": str(settings.queue_retention_seconds),
        }

    def url(self) -> str | None:
        try:
            return self.sqs.get_queue_url(QueueName=self.name)["QueueUrl"]
        except ClientError as exc:
            if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                return None
            raise

    def exists(self) -> bool:
        return self.url() is not None

    def _wire(self) -> dict[str, str]:
        return {**self.attributes, "Policy": json.dumps(self.attributes["Policy"])}

    def changes(self) -> list[Change]:
        url = self.url()
        if url is None:
            return [self.change("create", "with a policy that lets only the bucket send", self._create)]
        current = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(self.attributes))["Attributes"]
        differing = []
        if not same(json.loads(current.get("Policy", "null")), self.attributes["Policy"]):
            differing.append("Policy")
        if current.get("MessageRetentionPeriod") != self.attributes["MessageRetentionPeriod"]:
            differing.append("MessageRetentionPeriod")
        if not differing:
            return []
        return [
            self.change(
                "update",
                ", ".join(differing),
                lambda: self.sqs.set_queue_attributes(QueueUrl=url, Attributes=self._wire()),
            )
        ]

    def _create(self) -> None:
        try:
            self.sqs.create_queue(QueueName=self.name, Attributes=self._wire())
        except ClientError as exc:
            if error_code(exc) in ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"):
                raise InfrastructureError(
                    f"queue {self.name} was deleted less than 60 s ago and SQS refuses the name until then; retry `up`"
                ) from exc
            raise

    def removal(self, force: bool) -> Change | None:
        url = self.url()
        if url is None:
            return None
        return self.change("delete", "and any messages in it", lambda: self.sqs.delete_queue(QueueUrl=url))


class LandingNotification(Resource):
    """The bucket's ObjectCreated notification for the landing folder; other notifications are left alone."""

    kind = "S3 event notification"

    def __init__(self, aws: Aws, settings: Settings, queue: LandingQueue) -> None:
        self.name = f"{settings.bucket}/{settings.firehose.landing_prefix} -> {settings.landing_queue}"
        self.bucket = settings.bucket
        self.s3 = aws.client("s3")
        self.wanted = {
            "Id": NOTIFICATION_ID,
            "QueueArn": queue.arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": settings.firehose.landing_prefix}]}},
        }

    def _configuration(self) -> dict[str, Any] | None:
        try:
            configuration = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                return None
            raise
        configuration.pop("ResponseMetadata", None)
        return configuration

    def _ours(self, configuration: dict[str, Any] | None) -> dict[str, Any] | None:
        for entry in (configuration or {}).get("QueueConfigurations", []):
            if entry.get("Id") == NOTIFICATION_ID:
                return entry
        return None

    def exists(self) -> bool:
        return self._ours(self._configuration()) is not None

    def changes(self) -> list[Change]:
        current = self._ours(self._configuration())
        if current is None:
            return [self.change("create", "ObjectCreated events", lambda: self._put(keep_ours=True))]
        rules = current.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        normalized = {**current, "Filter": {"Key": {"FilterRules": [{**r, "Name": r["Name"].lower()} for r in rules]}}}
        if same(normalized, self.wanted):
            return []
        return [self.change("update", "queue, events or prefix filter", lambda: self._put(keep_ours=True))]

    def _put(self, keep_ours: bool) -> None:
        configuration = self._configuration() or {}
        others = [e for e in configuration.get("QueueConfigurations", []) if e.get("Id") != NOTIFICATION_ID]
        configuration["QueueConfigurations"] = [*others, self.wanted] if keep_ours else others
        if not configuration["QueueConfigurations"]:
            del configuration["QueueConfigurations"]
        self.s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=configuration)

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        return self.change("delete", "", lambda: self._put(keep_ours=False))
