"""`plan`, `up`, `down` and `status` over the pipeline's resources, in dependency order.

`up` converges each resource in turn, observing it just before changing it, so a second run finds nothing
to do; `down` removes them in reverse order, after checking every removal first, so a refusal (a non-empty
bucket without --force) deletes nothing at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mobile_events_elt.aws_infrastructure import policies
from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import UsageError
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource
from mobile_events_elt.aws_infrastructure.resources.bucket import Bucket
from mobile_events_elt.aws_infrastructure.resources.delivery_stream import DeliveryStream
from mobile_events_elt.aws_infrastructure.resources.messaging import AlertsTopic, LandingNotification, LandingQueue
from mobile_events_elt.aws_infrastructure.resources.role import Role
from mobile_events_elt.aws_infrastructure.resources.stream import Stream
from mobile_events_elt.config.aws_settings import Settings

SNOWFLAKE_USER_ENV = "SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN"
SNOWFLAKE_EXTERNAL_ID_ENV = "SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID"
_USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(user|role)/[\w+=,.@/-]+$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")


@dataclass(frozen=True)
class SnowflakeIdentity:
    """What `DESC INTEGRATION` shows as STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID."""

    iam_user_arn: str
    external_id: str


def snowflake_identity(iam_user_arn: str | None, external_id: str | None) -> SnowflakeIdentity | None:
    """From the CLI options, else the environment; None when neither is given, UsageError when half is."""
    user = iam_user_arn or os.environ.get(SNOWFLAKE_USER_ENV) or ""
    external = external_id or os.environ.get(SNOWFLAKE_EXTERNAL_ID_ENV) or ""
    if not user and not external:
        return None
    if not user or not external:
        raise UsageError(
            f"the Snowflake storage role needs both the IAM user ARN ({SNOWFLAKE_USER_ENV} or "
            f"--snowflake-iam-user-arn) and the external id ({SNOWFLAKE_EXTERNAL_ID_ENV} or --snowflake-external-id)"
        )
    if not _USER_ARN.match(user):
        raise UsageError(f"{user!r} is not an IAM user ARN (arn:aws:iam::<12 digits>:user/<name>)")
    if not _EXTERNAL_ID.match(external):
        raise UsageError("the external id must be 2-1224 characters of letters, digits and + = , . @ : / - _")
    return SnowflakeIdentity(user, external)


class SnowflakeRole(Role):
    """The role a Snowflake storage integration assumes; only converged when its identity is known."""

    def __init__(self, aws: Aws, settings: Settings, identity: SnowflakeIdentity | None) -> None:
        bucket_arn = aws.bucket_arn(settings.bucket)
        super().__init__(
            aws,
            kind="IAM role (Snowflake storage integration)",
            name=settings.snowflake_role_name,
            description="Read-only access to the landing folder for a Snowflake storage integration",
            trust=lambda: policies.snowflake_trust(identity.iam_user_arn, identity.external_id),  # type: ignore[union-attr]
            policy_name="read-landing",
            policy=lambda: policies.snowflake_read(bucket_arn, settings.firehose.landing_prefix),
        )
        self.identity = identity

    def changes(self) -> list[Change]:
        if self.identity is None:
            return [
                self.change(
                    "skip",
                    f"no Snowflake identity given; create the storage integration with STORAGE_AWS_ROLE_ARN = "
                    f"'{self.arn}', then run `up` again with {SNOWFLAKE_USER_ENV} and {SNOWFLAKE_EXTERNAL_ID_ENV} "
                    "(or --snowflake-iam-user-arn/--snowflake-external-id) from DESC INTEGRATION",
                    None,
                )
            ]
        return super().changes()


def airflow_role(aws: Aws, settings: Settings, queue_arn: str, topic_arn: str) -> Role:
    """The role the ELT DAG's AWS connection assumes (its ``role_arn``): the one identity the bucket lets
    write the pipeline's state, with read and list on the delivery folders, the landing queue and alerts."""
    fh = settings.firehose
    return Role(
        aws,
        kind="IAM role (Airflow ELT)",
        name=settings.airflow_role_name,
        description=f"What the mobile_events_elt DAG does: read s3://{settings.bucket} delivery folders, "
        f"write its {settings.state_prefix} folder, receive {settings.landing_queue}, publish alerts",
        trust=lambda: policies.airflow_trust(aws.account_arn(), settings.airflow.assumed_by),
        policy_name="run-elt",
        policy=lambda: policies.airflow_elt(
            aws.bucket_arn(settings.bucket),
            [fh.landing_prefix, fh.error_prefix],
            settings.state_prefix,
            queue_arn,
            topic_arn,
            aws.kms_keys_arn(),
        ),
    )


@dataclass
class Stack:
    """The resources of one config, named so that status can report each."""

    settings: Settings
    aws: Aws
    bucket: Bucket
    stream: Stream
    firehose_role: Role
    delivery_stream: DeliveryStream
    alerts_topic: AlertsTopic
    landing_queue: LandingQueue
    landing_notification: LandingNotification
    airflow_role: Role
    snowflake_role: SnowflakeRole

    @classmethod
    def build(cls, settings: Settings, identity: SnowflakeIdentity | None = None, aws: Aws | None = None) -> Stack:
        """The resources of ``settings``; ``aws`` (default: the settings' region) computes ARNs and clients."""
        aws = aws or Aws(settings.region)
        fh = settings.firehose
        firehose_role = Role(
            aws,
            kind="IAM role (Firehose delivery)",
            name=fh.role_name,
            description=f"Lets Firehose {fh.name} read {settings.stream.name} and write s3://{settings.bucket}",
            trust=lambda: policies.firehose_trust(aws.account_id),
            policy_name="deliver-stream-to-bucket",
            policy=lambda: policies.firehose_delivery(
                aws.stream_arn(settings.stream.name),
                aws.bucket_arn(settings.bucket),
                [fh.landing_prefix, fh.error_prefix],
            ),
        )
        queue = LandingQueue(aws, settings)
        topic = AlertsTopic(aws, settings)
        return cls(
            settings=settings,
            aws=aws,
            bucket=Bucket(aws, settings),
            stream=Stream(aws, settings),
            firehose_role=firehose_role,
            delivery_stream=DeliveryStream(aws, settings, firehose_role.arn),
            alerts_topic=topic,
            landing_queue=queue,
            landing_notification=LandingNotification(aws, settings, queue),
            airflow_role=airflow_role(aws, settings, queue.arn, topic.arn),
            snowflake_role=SnowflakeRole(aws, settings, identity),
        )

    def ordered(self) -> list[Resource]:
        """Creation order: each resource after those it refers to."""
        return [
            self.bucket,
            self.stream,
            self.firehose_role,
            self.delivery_stream,
            self.alerts_topic,
            self.landing_queue,
            self.landing_notification,
            self.airflow_role,
            self.snowflake_role,
        ]

    def plan(self) -> list[Change]:
        return [change for resource in self.ordered() for change in resource.changes()]

    def up(self, report: Callable[[str], None]) -> list[Change]:
        """Converge every resource; return the changes made (skips included, so callers can tell them apart)."""
        made: list[Change] = []
        for resource in self.ordered():
            for change in resource.changes():
                report(change.describe())
                if change.run is not None:
                    change.run()
                made.append(change)
        return made

    def down(self, force: bool, report: Callable[[str], None]) -> list[Change]:
        removals = [r.removal(force) for r in reversed(self.ordered())]
        todo = [change for change in removals if change is not None]
        for change in todo:
            report(change.describe())
            if change.run is not None:
                change.run()
        return todo

    def status(self) -> dict[str, Any]:
        settings, fh = self.settings, self.settings.firehose
        exists = {
            "bucket": self.bucket.exists(),
            "stream": self.stream.exists(),
            "firehose_role": self.firehose_role.exists(),
            "delivery_stream": self.delivery_stream.exists(),
            "alerts_topic": self.alerts_topic.exists(),
            "landing_queue": self.landing_queue.exists(),
            "bucket_notification": self.landing_notification.exists(),
            "airflow_role": self.airflow_role.exists(),
            "snowflake_role": self.snowflake_role.exists(),
        }
        return {
            "region": settings.region,
            "bucket": settings.bucket,
            "landing_prefix": fh.landing_prefix,
            "error_prefix": fh.error_prefix,
            "prefix": fh.prefix,
            "error_output_prefix": fh.error_output_prefix,
            "compression": fh.compression,
            "stream": settings.stream.name,
            "stream_arn": self.stream.arn,
            "delivery_stream": fh.name,
            "delivery_stream_arn": self.delivery_stream.arn,
            "firehose_role_arn": self.firehose_role.arn,
            "topic_arn": self.alerts_topic.arn if exists["alerts_topic"] else None,
            "queue_url": self.landing_queue.url(),
            "queue_arn": self.landing_queue.arn,
            "airflow_role_arn": self.airflow_role.arn,
            "snowflake_role_arn": self.snowflake_role.arn,
            "endpoint_url": os.environ.get("AWS_ENDPOINT_URL"),
            "exists": exists,
            "ready": all(value for key, value in exists.items() if key != "snowflake_role"),
            "details": {"stream": self.stream.status(), "delivery_stream": self.delivery_stream.status()},
        }
