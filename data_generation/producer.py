"""Kinesis producer: batched PutRecords within the service limits, retries, and a dead-letter spool.

Records are buffered into PutRecords calls of at most 500 records and 5 MiB (partition keys included), sent
when a batch is full or has waited ``linger_seconds``. PutRecords is not atomic: each record may fail on its
own (FailedRecordCount, ProvisionedThroughputExceededException, InternalFailure), and the whole call may fail
(throttling, 5xx, network). Failed records are re-sent with exponential backoff and jitter; what still fails
after ``max_attempts`` goes to the spool with its last error, never dropped. A record over 1 MiB can never be
accepted and is spooled at once. An error that retrying cannot fix (missing stream, no permission) spools the
batch and stops the producer: every later record is spooled too and ``put`` raises ``DeliveryError`` so the
caller stops generating.

Ctrl-C: ``close`` sends what is buffered. A KeyboardInterrupt while
a call is in flight spools the unconfirmed records, so they may be delivered twice but never lost.

The client is a plain boto3 Kinesis client (``config.clients``): the endpoint comes from AWS_ENDPOINT_URL or the default
chain, credentials from the default chain. botocore's own retries are off so that every retry is ours,
counted in the report and bounded by one budget.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError

from mobile_events_elt.config import ConfigError
from mobile_events_elt.config.clients import aws_client
from mobile_events_elt.data_generation.report import EVENT, Report
from mobile_events_elt.data_generation.sinks import DeliveryError, OnDelivered, Record
from mobile_events_elt.data_generation.spool import Spool, default_spool_path
from mobile_events_elt.data_generation.throttle import ShardLimit

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024
# Whole-call errors worth retrying: throttling and the service's own transient failures.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def kinesis_client(region: str | None = None) -> Any:
    """A Kinesis client with botocore's retries off (the producer retries) and bounded timeouts.

    ``total_max_attempts`` counts the first try; botocore's older ``max_attempts`` counts retries only, so
    ``max_attempts: 1`` would still retry once, with botocore's own back-off, inside each of ours."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or region
    return aws_client(
        "kinesis",
        region,
        client_config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


class KinesisProducer:
    """Sends (line, partition key, kind) records to one stream; ``close``/``send`` return the ``Report``."""

    def __init__(
        self,
        stream_name: str,
        *,
        client: Any = None,
        max_attempts: int = 6,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        linger_seconds: float = 0.5,
        spool_path: Path | None = None,
        shard_limit: ShardLimit | None = None,
        on_delivered: OnDelivered | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.stream_name = stream_name
        self.client = client if client is not None else kinesis_client()
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.linger_seconds = linger_seconds
        self.shard_limit = shard_limit
        self.spool = Spool(spool_path or default_spool_path(stream_name), stream_name)
        self.report = Report()
        self._on_delivered = on_delivered
        self._buffer: list[tuple[bytes, str, str]] = []
        self._buffer_bytes = 0
        self._buffer_since = 0.0
        self._in_flight: list[tuple[bytes, str, str]] = []

    def put(self, line: str, key: str, kind: str = EVENT) -> None:
        """Queue a record: ``line`` without a newline (the delivery stream's AppendDelimiterToRecord adds it)."""
        if self.report.error:
            self._give_up([(line.encode(), key, kind)], self.report.error, 0)
            raise DeliveryError(self.report.error)
        data = line.encode()
        size = len(data) + len(key.encode())
        if size > MAX_BYTES_PER_RECORD:
            self._give_up([(data, key, kind)], f"record is {size:,} bytes, over the 1 MiB Kinesis limit", 0)
            return
        if self._buffer_bytes + size > MAX_BYTES_PER_CALL:
            try:
                self.flush()
            except KeyboardInterrupt:
                self._give_up([(data, key, kind)], "interrupted before it was sent", 0)
                raise
        if not self._buffer:
            self._buffer_since = time.monotonic()
        self._buffer.append((data, key, kind))
        self._buffer_bytes += size
        if len(self._buffer) >= MAX_RECORDS_PER_CALL:
            self.flush()

    def put_many(self, records: list[Record]) -> None:
        """``put`` each record; on a fatal error or an interrupt, spool the rest of the chunk too, then re-raise."""
        for index, (line, key, kind) in enumerate(records):
            try:
                self.put(line, key, kind)
            except DeliveryError:
                self.defer(records[index + 1 :], self.report.error or "not sent after a fatal error")
                raise
            except KeyboardInterrupt:  # the record in hand is buffered or spooled; the rest is not yet either
                self.defer(records[index + 1 :], "interrupted before it was sent")
                raise

    def poll(self) -> None:
        if self._buffer and time.monotonic() - self._buffer_since >= self.linger_seconds:
            self.flush()

    def flush(self) -> None:
        """Send everything buffered now; a fatal error is recorded in the report and raised by the next put."""
        batch, self._buffer, self._buffer_bytes = self._buffer, [], 0
        try:
            self._send(batch)
        except KeyboardInterrupt:
            self._give_up(self._in_flight, "interrupted before Kinesis confirmed delivery", 0)
            self._in_flight = []
            raise

    def close(self) -> Report:
        """Send what is buffered, close the spool, and return the report."""
        try:
            self.flush()
        finally:
            self.spool.close()
            self.report.spool_path = self.spool.path if self.spool.count else None
        return self.report

    def defer(self, records: list[Record], reason: str) -> None:
        """Spool (line, partition key, kind) records without trying them, e.g. the unsent rest of a stopped replay."""
        self._give_up([(line.encode(), key, kind) for line, key, kind in records], reason, 0)

    def _send(self, batch: list[tuple[bytes, str, str]]) -> None:
        pending = batch
        attempt = 0
        while pending:
            attempt += 1
            self._in_flight = pending
            if self.report.error:
                self._give_up(pending, self.report.error, 0)
                break
            if self.shard_limit is not None:
                self.shard_limit.acquire(len(pending), sum(len(d) + len(k) for d, k, _ in pending))
            failed, error = self._put_records(pending)
            self._in_flight = failed
            if failed and self.report.error:
                self._give_up(failed, error, attempt)
                break
            if failed and attempt >= self.max_attempts:
                self._give_up(failed, f"{error} (gave up after {attempt} attempts)", attempt)
                break
            if failed:
                self.report.retried += len(failed)
                ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                time.sleep(ceiling / 2 + random.uniform(0, ceiling / 2))
            pending = failed
        self._in_flight = []

    def _put_records(self, pending: list[tuple[bytes, str, str]]) -> tuple[list[tuple[bytes, str, str]], str]:
        """One PutRecords call: count what got in, return what did not and why."""
        try:
            response = self.client.put_records(
                StreamName=self.stream_name, Records=[{"Data": d, "PartitionKey": k} for d, k, _ in pending]
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            error = f"{code}: {exc.response.get('Error', {}).get('Message', exc)}"
            if code not in RETRYABLE_CODES and status < 500:
                self.report.error = f"Kinesis refused PutRecords on stream {self.stream_name!r}: {error}"
            return pending, error
        except (BotoConnectionError, HTTPClientError) as exc:  # refused, reset, timed out: transient
            return pending, f"{type(exc).__name__}: {exc}"
        except BotoCoreError as exc:  # no credentials, invalid parameters: retrying will not help
            self.report.error = f"cannot call Kinesis PutRecords: {type(exc).__name__}: {exc}"
            return pending, self.report.error
        failed = []
        error = ""
        report, callback = self.report, self._on_delivered
        for record, result in zip(pending, response["Records"], strict=True):
            if "ErrorCode" in result:
                failed.append(record)
                error = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
                continue
            data, key, kind = record
            report.delivered[kind] += 1
            report.bytes += len(data)
            if callback is not None:
                callback(data.decode(), key, kind)
        return failed, error

    def _give_up(self, records: list[tuple[bytes, str, str]], error: str, attempts: int) -> None:
        if not records:
            return
        self.report.failed += len(records)
        self.spool.write([(d.decode(), k, kind) for d, k, kind in records], error, attempts)
        self.report.spooled += len(records)


def stream_shards(client: Any, stream: str) -> int:
    """Open shards of ``stream``, checked before sending so a wrong name or endpoint fails fast (exit 2)."""
    where = f"at {client.meta.endpoint_url} (region {client.meta.region_name})"
    try:
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    except NoCredentialsError:
        raise ConfigError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "(the local stack accepts any values, e.g. testing/testing)"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ResourceNotFoundException":
            raise ConfigError(
                f"Kinesis stream {stream!r} not found {where}; create it (`make up` for the local stack) "
                "or pass --stream NAME"
            ) from None
        raise ConfigError(f"Kinesis refused DescribeStreamSummary on {stream!r} {where}: {error}") from None
    except BotoCoreError as exc:
        hint = " Is the local stack running (`make up`)?" if os.environ.get("AWS_ENDPOINT_URL") else ""
        raise ConfigError(f"cannot reach Kinesis {where}: {exc}.{hint}") from None
    return int(summary.get("OpenShardCount") or 1)
