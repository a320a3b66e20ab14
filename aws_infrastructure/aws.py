"""The provisioning's clients (built by ``config.clients``, one per service) and the account, the partition
and the ARNs of our resources.

Credentials come from boto3's default chain and the endpoint from ``AWS_ENDPOINT_URL`` when set, so the same
code runs against the emulator and a real account. ARNs are computed rather than looked up, so ``plan`` can
describe resources that do not exist yet.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3

from mobile_events_elt.config.clients import aws_client


class Aws:
    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(service, self.region)
        return self._clients[service]

    @cached_property
    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

    @cached_property
    def partition(self) -> str:
        return boto3.session.Session().get_partition_for_region(self.region)

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    def stream_arn(self, stream: str) -> str:
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account_id}:stream/{stream}"

    def role_arn(self, role: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{role}"

    def account_arn(self) -> str:
        """The account as an IAM principal (a trust policy naming it defers to the account's IAM policies)."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def kms_keys_arn(self) -> str:
        """Every KMS key of the account in this region, for statements a condition narrows further."""
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/*"

    def topic_arn(self, topic: str) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account_id}:{topic}"

    def queue_arn(self, queue: str) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account_id}:{queue}"

    def delivery_stream_arn(self, name: str) -> str:
        return f"arn:{self.partition}:firehose:{self.region}:{self.account_id}:deliverystream/{name}"
