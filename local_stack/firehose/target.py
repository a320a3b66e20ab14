"""What to deliver where, read back from the delivery stream's own description.

The local delivery takes nothing from config/aws.json but the delivery stream's name: the source stream,
bucket, prefixes, compression and buffering all come from DescribeDeliveryStream, so a change made with
`up` (or UpdateDestination by hand) changes what the local delivery does, as it would on AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mobile_events_elt.aws_infrastructure.errors import UsageError, error_code
from mobile_events_elt.config import prefixes

MIB = 1024 * 1024
SUPPORTED_COMPRESSION = {"UNCOMPRESSED": "", "GZIP": ".gz"}


@dataclass(frozen=True)
class DeliveryTarget:
    name: str
    version: str
    stream_arn: str
    bucket: str
    prefix: str
    error_prefix: str
    compression: str
    buffer_bytes: int
    buffer_seconds: int
    newline_delimited: bool
    extension: str

    @classmethod
    def from_description(cls, description: dict[str, Any]) -> DeliveryTarget:
        name = description["DeliveryStreamName"]
        if description.get("DeliveryStreamType") != "KinesisStreamAsSource":
            raise UsageError(
                f"delivery stream {name} is {description.get('DeliveryStreamType')}; the local delivery serves "
                "only delivery streams whose source is a Kinesis stream (moto delivers DirectPut itself)"
            )
        source = description["Source"]["KinesisStreamSourceDescription"]
        destination = description["Destinations"][0]
        s3 = destination.get("ExtendedS3DestinationDescription") or destination.get("S3DestinationDescription")
        if not s3:
            raise UsageError(f"delivery stream {name} has no S3 destination")
        compression = s3.get("CompressionFormat", "UNCOMPRESSED")
        if compression not in SUPPORTED_COMPRESSION:
            raise UsageError(
                f"delivery stream {name} compresses with {compression}; the local delivery writes "
                f"{' or '.join(SUPPORTED_COMPRESSION)}"
            )
        processors = s3.get("ProcessingConfiguration", {})
        types = {p.get("Type") for p in processors.get("Processors", [])} if processors.get("Enabled") else set()
        # What Firehose writes under the error output prefix comes only from these features (Lambda
        # transformation, format conversion, dynamic partitioning); the local delivery runs none of them, so
        # it refuses rather than deliver records they would have changed or rejected.
        unsupported = sorted(types - {"AppendDelimiterToRecord"})
        for feature in ("DataFormatConversionConfiguration", "DynamicPartitioningConfiguration"):
            if s3.get(feature, {}).get("Enabled"):
                unsupported.append(feature)
        if unsupported:
            raise UsageError(
                f"delivery stream {name} uses {', '.join(unsupported)}; the local delivery only appends the "
                "record delimiter (AppendDelimiterToRecord)"
            )
        newline = "AppendDelimiterToRecord" in types
        hints = s3.get("BufferingHints", {})
        prefix = s3.get("Prefix", "")
        return cls(
            name=name,
            version=str(description["VersionId"]),
            stream_arn=source["KinesisStreamARN"],
            bucket=s3["BucketARN"].split(":::", 1)[1],
            prefix=prefixes.effective_prefix(prefix),
            error_prefix=prefixes.effective_error_prefix(prefix, s3.get("ErrorOutputPrefix")),
            compression=compression,
            buffer_bytes=int(hints.get("SizeInMBs", 5)) * MIB,
            buffer_seconds=int(hints.get("IntervalInSeconds", 300)),
            newline_delimited=newline,
            extension=s3.get("FileExtension") or SUPPORTED_COMPRESSION[compression],
        )


def read_target(firehose: Any, name: str) -> DeliveryTarget:
    try:
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise UsageError(f"delivery stream {name} does not exist; create it with `mobile-events-aws up`") from exc
        raise
    return DeliveryTarget.from_description(description)
