"""Where records go: the interface every sink offers, and the NDJSON file/stdout sink.

A sink takes records in chunks of (line, partition key, kind), confirms delivery through an optional
callback, and returns a ``Report`` when closed. The Kinesis producer offers the same methods. Chunks,
not single records, because a Python call per record would cost a third of the generator's speed.

The file sink is byte-for-byte reproducible: a ``.gz`` file gets a gzip header with no file name and a
zero timestamp, so the same seed gives the same compressed bytes wherever the file is written.
"""

from __future__ import annotations

import gzip
import sys
import time
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, Protocol

from mobile_events_elt.data_generation.report import Report

Record = tuple[str, str, str]  # (line without newline, partition key, kind)
OnDelivered = Callable[[str, str, str], None]
_LINGER_SECONDS = 0.5  # longest written lines wait in a stream's buffer when poll() is called
_kind_of = itemgetter(2)


class DeliveryError(RuntimeError):
    """The sink's target refused records for a reason retrying cannot fix; the message says which."""


class Sink(Protocol):
    def put_many(self, records: list[Record]) -> None:
        """Take a chunk of records; may deliver synchronously; raises DeliveryError when the target refuses."""

    def poll(self) -> None:
        """Deliver what has waited longer than the sink's linger time; called while the pipeline idles."""

    def close(self) -> Report:
        """Deliver everything buffered, release resources, and report what was delivered."""


class FileSink:
    """NDJSON lines to a binary stream (a file, gzip-compressed if named ``*.gz``, or stdout).

    Each chunk is written at once and counts as delivered when the write returns; ``on_delivered`` then
    fires per record, in order, which keeps a run's duplicates reproducible.
    """

    def __init__(
        self, stream: BinaryIO, *, owned: tuple[BinaryIO, ...] = (), on_delivered: OnDelivered | None = None
    ) -> None:
        self._stream = stream
        self._owned = owned  # closed by close(), innermost first
        self._on_delivered = on_delivered
        self._last_flush = time.monotonic()
        self.report = Report()

    @classmethod
    def open(cls, path: Path, on_delivered: OnDelivered | None = None) -> FileSink:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = open(path, "wb")  # noqa: SIM115 - closed by close()
        if path.suffix != ".gz":
            return cls(raw, owned=(raw,), on_delivered=on_delivered)
        # No file name and a zero mtime in the header: the same records give the same bytes, wherever written.
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        return cls(gz, owned=(gz, raw), on_delivered=on_delivered)  # type: ignore[arg-type]

    @classmethod
    def stdout(cls, on_delivered: OnDelivered | None = None) -> FileSink:
        return cls(sys.stdout.buffer, on_delivered=on_delivered)

    def put_many(self, records: list[Record]) -> None:
        if not records:
            return
        data = "\n".join([line for line, _, _ in records]).encode() + b"\n"
        self._stream.write(data)
        self.report.bytes += len(data)
        self.report.delivered.update(map(_kind_of, records))
        if self._on_delivered is not None:
            for line, key, kind in records:
                self._on_delivered(line, key, kind)

    def poll(self) -> None:
        if time.monotonic() - self._last_flush >= _LINGER_SECONDS:
            self._stream.flush()
            self._last_flush = time.monotonic()

    def close(self) -> Report:
        try:
            self._stream.flush()
        finally:
            for stream in self._owned:
                stream.close()
        return self.report
