"""The delivery buffer: each record's bytes as they came, flushed when BufferingHints say (size or age).

With the AppendDelimiterToRecord processor Firehose appends "\\n" to every record and changes nothing else:
a record that is empty, not UTF-8 or holds line breaks of its own lands inside the ordinary object as it is
(without a transformation Lambda nothing is rejected), and the loader quarantines the lines it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def frame(data: bytes, newline_delimited: bool) -> bytes:
    """The bytes written for one record: the record, plus the delimiter when the processor asks for one."""
    return data + b"\n" if newline_delimited else data


@dataclass
class Batch:
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    started: float | None = None
    # The last sequence number per shard whose record is in this batch: what a flush lets us checkpoint.
    upto: dict[str, str] = field(default_factory=dict)

    def add(self, record: dict[str, Any], shard_id: str, newline_delimited: bool, now: float) -> None:
        line = frame(record["Data"], newline_delimited)
        self.lines.append(line)
        self.size += len(line)
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
