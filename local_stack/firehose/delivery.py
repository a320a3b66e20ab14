"""The delivery loop: read every shard, buffer, write objects, then record the new positions.

One process, one thread: rounds of GetRecords over the readable shards, appending to one buffer in read
order (so each partition key's records stay in order), flushing when the buffering hints say. `once`
drains what is in the stream now and flushes; otherwise the loop runs until SIGINT/SIGTERM (or the
`stop` event), then flushes and records its position before returning. Every 30 s it re-reads the
delivery stream's description (a changed destination takes effect after the current buffer is written)
and the shard list (resharding).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mobile_events_elt.aws_infrastructure.errors import InfrastructureError, error_code, explain
from mobile_events_elt.config.clients import aws_client
from mobile_events_elt.local_stack.firehose.batch import Batch
from mobile_events_elt.local_stack.firehose.checkpoint import Checkpoint
from mobile_events_elt.local_stack.firehose.objects import ObjectWriter
from mobile_events_elt.local_stack.firehose.shards import ShardState, ShardTracker, list_shards
from mobile_events_elt.local_stack.firehose.target import read_target

# Pages of 2,500 keep the parsed page (~4 MiB of seed-shaped events) small beside the buffer; measured
# throughput is the same as with Kinesis's maximum of 10,000, the emulator's serialization being the bound.
GET_RECORDS_LIMIT = 2500
REFRESH_SECONDS = 30.0
ONCE_WRITE_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class DeliveryReport:
    delivery_stream: str
    bucket: str = ""
    records_read: int = 0
    records_delivered: int = 0
    objects: list[str] = field(default_factory=list)
    bytes_written: int = 0
    millis_behind_latest: int = 0
    positions: dict[str, str | None] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def summary(self) -> str:
        return (
            f"{self.delivery_stream}: delivered {self.records_delivered} records in {len(self.objects)} objects "
            f"to s3://{self.bucket} in {self.seconds:.1f}s; {self.millis_behind_latest} ms behind the stream"
        )


class Delivery:
    def __init__(self, name: str, region: str, state_dir: Path, log: Callable[[str], None]) -> None:
        self.name = name
        self.log = log
        self.firehose = aws_client("firehose", region)
        self.kinesis = aws_client("kinesis", region)
        self.writer = ObjectWriter(aws_client("s3", region))
        self.target = read_target(self.firehose, name)
        summary = self.kinesis.describe_stream_summary(StreamARN=self.target.stream_arn)["StreamDescriptionSummary"]
        self.checkpoint, note = Checkpoint.load(
            state_dir / f"{name}.checkpoint.json",
            name,
            self.target.stream_arn,
            summary["StreamCreationTimestamp"].isoformat(),
        )
        self.log(note)
        self.tracker = ShardTracker(self.checkpoint)
        self.batch = Batch()
        self.report = DeliveryReport(name, bucket=self.target.bucket)
        self.refreshed = 0.0
        # How hard to try an S3 write: a few attempts for a one-off drain, until stopped for the service.
        self.write_attempts: int | None = ONCE_WRITE_ATTEMPTS
        self.stopping: Callable[[], bool] = lambda: False

    # --- reading ------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tracker.refresh(list_shards(self.kinesis, self.target.stream_arn))
        self.refreshed = time.monotonic()

    def read(self, shard: ShardState) -> None:
        if shard.iterator is None:
            kwargs: dict[str, Any] = {"StreamARN": self.target.stream_arn, "ShardId": shard.shard_id}
            if shard.position is None:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=shard.position)
            shard.iterator = self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
        try:
            page = self.kinesis.get_records(
                ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT, StreamARN=self.target.stream_arn
            )
        except ClientError as exc:
            if error_code(exc) == "ExpiredIteratorException":
                shard.iterator = None
                return
            if error_code(exc) in ("ProvisionedThroughputExceededException", "LimitExceededException"):
                shard.caught_up = False
                time.sleep(0.2)
                return
            raise
        records = page["Records"]
        now = time.monotonic()
        for record in records:
            self.batch.add(record, shard.shard_id, self.target.newline_delimited, now)
            if self.batch.size >= self.target.buffer_bytes:
                self.flush_retrying(self.write_attempts, self.stopping)
        if records:
            shard.position = records[-1]["SequenceNumber"]
        self.report.records_read += len(records)
        shard.iterator = page.get("NextShardIterator")
        shard.millis_behind = int(page.get("MillisBehindLatest", 0))
        shard.caught_up = not records and shard.millis_behind == 0
        if shard.iterator is None or (shard.closed and not records and shard.reached(shard.ending or "0")):
            shard.at_end = True
            self.refreshed = 0.0  # its children may be readable now

    # --- writing ------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the buffer, then checkpoint what it held: a crash in between re-delivers."""
        batch = self.batch
        if batch.empty:
            self.mark_finished()
            return
        key, size = self.writer.put(self.target, batch.lines, datetime.now(UTC))
        self.report.objects.append(key)
        self.report.bytes_written += size
        self.log(f"wrote s3://{self.target.bucket}/{key} ({len(batch.lines)} records, {size} bytes)")
        for shard_id, sequence in batch.upto.items():
            self.checkpoint.mark(shard_id).sequence = sequence
        self.report.records_delivered += len(batch.lines)
        self.batch = Batch()
        self.mark_finished(save=True)

    def mark_finished(self, save: bool = False) -> None:
        """Record closed shards read to their end with nothing of theirs left in the buffer."""
        for state in self.tracker.shards.values():
            mark = self.checkpoint.mark(state.shard_id)
            pending = state.shard_id in self.batch.upto
            if state.at_end and state.ending and not pending and mark.finished_ending != state.ending:
                mark.finished_ending = state.ending
                save = True
        if save:
            self.checkpoint.save()

    def flush_retrying(self, attempts: int | None, stopping: Callable[[], bool]) -> None:
        """Keep the buffer until S3 takes it: Firehose retries delivery rather than dropping data."""
        delay, attempt = 1.0, 0
        while True:
            attempt += 1
            try:
                self.flush()
                return
            except (ClientError, BotoCoreError) as exc:
                if (attempts is not None and attempt >= attempts) or stopping():
                    raise InfrastructureError(
                        f"could not write to s3://{self.target.bucket} ({explain(exc)}); nothing was lost: "
                        f"the checkpoint still points before the unwritten records"
                    ) from exc
                self.log(f"write to S3 failed ({explain(exc)}); retrying in {delay:.0f}s")
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def reload_target(self) -> None:
        target = read_target(self.firehose, self.name)
        if target != self.target:
            if target.stream_arn != self.target.stream_arn:
                raise InfrastructureError(f"delivery stream {self.name} now reads another stream; restart the delivery")
            self.flush_retrying(None, lambda: False)
            self.log(f"delivery stream {self.name} changed (version {self.target.version} -> {target.version})")
            self.target = target
            self.report.bucket = target.bucket

    # --- the loop -----------------------------------------------------------------------------------------

    def run(self, once: bool, stop: threading.Event, poll_seconds: float) -> DeliveryReport:
        started = time.monotonic()
        self.write_attempts, self.stopping = (ONCE_WRITE_ATTEMPTS if once else None), stop.is_set
        was_caught_up = False
        while not stop.is_set():
            if not self.refreshed or time.monotonic() - self.refreshed >= REFRESH_SECONDS:
                if self.refreshed and not once:
                    self.reload_target()
                self.refresh()
            for shard in self.tracker.readable():
                self.read(shard)
                was_caught_up = was_caught_up and shard.caught_up
            self.mark_finished()
            # Done when every shard we may read has nothing more now (children of a shard that just ended
            # are not caught up yet, and a pending refresh may still find new shards).
            if once and self.refreshed and self.tracker.caught_up():
                break
            now = time.monotonic()
            if self.batch.due(now, self.target.buffer_bytes, self.target.buffer_seconds):
                self.flush_retrying(self.write_attempts, self.stopping)
            if not once and self.tracker.caught_up():
                if not was_caught_up:
                    self.log(f"caught up with the stream; {len(self.batch.lines)} records buffered")
                was_caught_up = True
                until_due = self.batch.seconds_until_due(now, self.target.buffer_seconds)
                stop.wait(poll_seconds if until_due is None else min(poll_seconds, max(until_due, 0.05)))
        self.flush_retrying(ONCE_WRITE_ATTEMPTS, lambda: False)
        self.report.millis_behind_latest = self.tracker.millis_behind()
        self.report.positions = {shard: mark.sequence for shard, mark in sorted(self.checkpoint.shards.items())}
        self.report.seconds = time.monotonic() - started
        return self.report


def log_to_stderr(message: str) -> None:
    print(f"[local-firehose {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)
