"""The delivery buffer: records framed as lines, flushed when BufferingHints say (size or age).

With AppendDelimiterToRecord each record becomes one line (its data plus "\n" unless it ends with one). A
record that cannot be one line of UTF-8 text (empty, not UTF-8, or with a line break inside) would corrupt
every line-based reader of the object, so it goes to the error output instead, wrapped the way Firehose
wraps processing failures (base64 rawData with an error code), rather than being dropped.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

ERROR_OUTPUT_TYPE = "processing-failed"


def frame(data: bytes, newline_delimited: bool) -> tuple[bytes | None, str | None]:
    """The bytes to write for one record, or None and the reason it cannot be written."""
    if not newline_delimited:
        return data, None
    body = data[:-1] if data.endswith(b"\n") else data
    if not body.strip():
        return None, "Local.EmptyRecord: the record has no content, so it would be a blank line"
    if b"\n" in body or b"\r" in body:
        return None, "Local.MultiLineRecord: the record contains a line break, so it would become several lines"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"Local.NotUtf8: the record is not UTF-8 text ({exc.reason} at byte {exc.start})"
    return body + b"\n", None


def error_line(record: dict[str, Any], reason: str, stream_arn: str, shard_id: str, now_ms: int) -> bytes:
    arrival = record.get("ApproximateArrivalTimestamp")
    arrival_ms = int(arrival.timestamp() * 1000) if arrival else now_ms
    code, _, message = reason.partition(": ")
    document = {
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "errorCode": code,
        "errorMessage": message,
        "attemptEndingTimestamp": now_ms,
        "rawData": base64.b64encode(record["Data"]).decode("ascii"),
        "kinesisMetadata": {
            "kinesisStreamARN": stream_arn,
            "shardId": shard_id,
            "partitionKey": record.get("PartitionKey"),
            "sequenceNumber": record["SequenceNumber"],
            "approximateArrivalTimestamp": arrival_ms,
        },
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


@dataclass
class Batch:
    lines: list[bytes] = field(default_factory=list)
    errors: list[bytes] = field(default_factory=list)
    size: int = 0
    started: float | None = None
    # The last sequence number per shard whose record is in this batch: what a flush lets us checkpoint.
    upto: dict[str, str] = field(default_factory=dict)

    def add(
        self, record: dict[str, Any], shard_id: str, stream_arn: str, newline_delimited: bool, now: float, now_ms: int
    ) -> None:
        line, reason = frame(record["Data"], newline_delimited)
        if line is not None:
            self.lines.append(line)
            self.size += len(line)
        else:
            self.errors.append(error_line(record, reason or "", stream_arn, shard_id, now_ms))
        if self.started is None:
            self.started = now
        self.upto[shard_id] = record["SequenceNumber"]

    @property
    def empty(self) -> bool:
        return not self.upto

    def due(self, now: float, buffer_bytes: int, buffer_seconds: int) -> bool:
        """Firehose delivers when either hint is reached, whichever first."""
        if self.empty:
            return False
        return self.size >= buffer_bytes or (self.started is not None and now - self.started >= buffer_seconds)

    def seconds_until_due(self, now: float, buffer_seconds: int) -> float | None:
        if self.started is None:
            return None
        return max(0.0, self.started + buffer_seconds - now)
