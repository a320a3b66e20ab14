"""The Firehose delivery stream: Kinesis stream in, gzipped newline-delimited objects under the prefixes out.

AppendDelimiterToRecord makes real Firehose write one record per line (it concatenates records with no
delimiter otherwise, which no JSON loader can split). Destination changes go through UpdateDestination,
which bumps the stream's version (part of every object name); a different source stream needs a new stream.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.aws import Aws
from mobile_events_elt.aws_infrastructure.errors import error_code
from mobile_events_elt.aws_infrastructure.policies import same
from mobile_events_elt.aws_infrastructure.resources.base import Change, Resource, wait_until
from mobile_events_elt.config.aws_settings import Settings

NEWLINE_DELIMITER = {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}]}
COMPARED = ("RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat")
# IAM is eventually consistent: a role created a moment ago may not be assumable by Firehose yet.
ROLE_PROPAGATION_SECONDS = 120


class DeliveryStream(Resource):
    kind = "Firehose delivery stream"

    def __init__(self, aws: Aws, settings: Settings, role_arn: str) -> None:
        self.settings = settings
        self.name = settings.firehose.name
        self.firehose = aws.client("firehose")
        self.arn = aws.delivery_stream_arn(self.name)
        self.source = {"KinesisStreamARN": aws.stream_arn(settings.stream.name), "RoleARN": role_arn}
        fh = settings.firehose
        self.destination: dict[str, Any] = {
            "RoleARN": role_arn,
            "BucketARN": aws.bucket_arn(settings.bucket),
            "Prefix": fh.prefix,
            "ErrorOutputPrefix": fh.error_output_prefix,
            "BufferingHints": {"SizeInMBs": fh.buffer_size_mib, "IntervalInSeconds": fh.buffer_interval_seconds},
            "CompressionFormat": fh.compression,
            "ProcessingConfiguration": NEWLINE_DELIMITER,
        }

    def describe(self) -> dict[str, Any] | None:
        try:
            return self.firehose.describe_delivery_stream(DeliveryStreamName=self.name)["DeliveryStreamDescription"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise

    def exists(self) -> bool:
        return self.describe() is not None

    def changes(self) -> list[Change]:
        current = self.describe()
        fh = self.settings.firehose
        if current is None:
            detail = (
                f"from stream {self.settings.stream.name} to s3://{self.settings.bucket}/{fh.landing_prefix}, "
                f"{fh.compression}, buffer {fh.buffer_size_mib} MiB / {fh.buffer_interval_seconds} s"
            )
            return [self.change("create", detail, self._create)]
        source = current.get("Source", {}).get("KinesisStreamSourceDescription", {})
        if current.get("DeliveryStreamType") != "KinesisStreamAsSource" or not all(
            source.get(key) == value for key, value in self.source.items()
        ):
            return [
                self.change(
                    "replace", "its source changed; a delivery stream's source cannot be updated", self._replace
                )
            ]
        destination = current["Destinations"][0].get("ExtendedS3DestinationDescription", {})
        differing = [key for key in COMPARED if not same(destination.get(key), self.destination[key])]
        if not same(destination.get("ProcessingConfiguration"), NEWLINE_DELIMITER):
            differing.append("ProcessingConfiguration")
        if not differing:
            return []
        return [self.change("update", f"destination {', '.join(differing)}", lambda: self._update(current))]

    def _create(self) -> None:
        deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
        while True:
            try:
                self.firehose.create_delivery_stream(
                    DeliveryStreamName=self.name,
                    DeliveryStreamType="KinesisStreamAsSource",
                    KinesisStreamSourceConfiguration=self.source,
                    ExtendedS3DestinationConfiguration=self.destination,
                )
                break
            except ClientError as exc:
                role_not_ready = error_code(exc) == "InvalidArgumentException" and "role" in str(exc).lower()
                if not role_not_ready or time.monotonic() > deadline:
                    raise
                time.sleep(5)
        self._wait_active()

    def _wait_active(self) -> None:
        wait_until(
            lambda: (self.describe() or {}).get("DeliveryStreamStatus") == "ACTIVE",
            f"delivery stream {self.name} to be ACTIVE",
        )

    def _update(self, current: dict[str, Any]) -> None:
        self.firehose.update_destination(
            DeliveryStreamName=self.name,
            CurrentDeliveryStreamVersionId=current["VersionId"],
            DestinationId=current["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate=self.destination,
        )
        self._wait_active()

    def _replace(self) -> None:
        self._delete()
        self._create()

    def removal(self, force: bool) -> Change | None:
        if not self.exists():
            return None
        return self.change("delete", "", self._delete)

    def _delete(self) -> None:
        self.firehose.delete_delivery_stream(DeliveryStreamName=self.name)
        wait_until(lambda: not self.exists(), f"delivery stream {self.name} to be deleted")

    def status(self) -> dict[str, Any]:
        current = self.describe()
        if current is None:
            return {"exists": False}
        return {"exists": True, "status": current["DeliveryStreamStatus"], "version": current["VersionId"]}
