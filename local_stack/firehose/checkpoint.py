"""The delivery's durable position in each shard: a JSON file replaced atomically after each S3 write.

A sequence number is recorded only once the object holding that record is in S3, so a crash at any moment
loses nothing: the restarted delivery reads again from the last recorded position, and at most the records
of the object being written when it died are delivered twice (at-least-once, as Firehose promises).
The file also names the stream and its creation time: a stream deleted and created again under the same
name starts from scratch instead of skipping records at sequence numbers the old stream had reached.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ShardMark:
    sequence: str | None = None
    # The EndingSequenceNumber of a closed shard once every record of it is in S3.
    finished_ending: str | None = None


@dataclass
class Checkpoint:
    path: Path
    delivery_stream: str
    stream_arn: str
    stream_created: str
    shards: dict[str, ShardMark] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, delivery_stream: str, stream_arn: str, stream_created: str) -> tuple[Checkpoint, str]:
        """The checkpoint for this stream, and a note saying where delivery resumes from."""
        fresh = cls(path, delivery_stream, stream_arn, stream_created)
        if not path.exists():
            return fresh, f"no checkpoint at {path}: starting at the oldest record"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"checkpoint {path} is unreadable ({exc}); move it away to start from scratch") from exc
        if data.get("stream_arn") != stream_arn or data.get("stream_created") != stream_created:
            return fresh, f"checkpoint {path} is for another stream (or an earlier one of this name): starting afresh"
        fresh.shards = {shard: ShardMark(**mark) for shard, mark in data.get("shards", {}).items()}
        return fresh, f"resuming from checkpoint {path}"

    def mark(self, shard_id: str) -> ShardMark:
        return self.shards.setdefault(shard_id, ShardMark())

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_stream": self.delivery_stream,
            "stream_arn": self.stream_arn,
            "stream_created": self.stream_created,
            "shards": {shard: vars(mark) for shard, mark in sorted(self.shards.items())},
        }

    def save(self) -> None:
        """Write to a temporary file, flush it to disk, then rename over the old one: never a torn file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.to_dict(), out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
