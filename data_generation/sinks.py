"""Where records go: the interface every sink offers, and the NDJSON file/stdout sink.

A sink takes records one at a time as (line, partition key, kind), confirms delivery through an
optional callback, and returns a ``Report`` when closed. The Kinesis producer offers the same methods.

The file sink writes in chunks for speed, and is byte-for-byte reproducible: a ``.gz`` file gets a
gzip header with no file name and a zero timestamp, so the same seed gives the same compressed bytes.
"""

from __future__ import annotations

import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from data_generation.report import Report

OnDelivered = Callable[[str, str, str], None]
_CHUNK = 2048  # lines per write
_LINGER_SECONDS = 0.5  # longest a line waits in the buffer when poll() is called


class Sink(Protocol):
    def put(self, line: str, key: str, kind: str) -> None:
        """Queue one record (``line`` without newline); may deliver a batch synchronously."""

    def poll(self) -> None:
        """Deliver what has waited longer than the sink's linger time; called while the pipeline idles."""

    def close(self) -> Report:
        """Deliver everything buffered, release resources, and report what was delivered."""


class FileSink:
    """NDJSON lines to a binary stream (a file, gzip-compressed if named ``*.gz``, or stdout).

    A record counts as delivered once the chunk holding it is written; ``on_delivered`` fires at ``put``,
    which for a local file is as good as confirmed and keeps the run's duplicates reproducible.
    """

    def __init__(
        self, stream: BinaryIO, *, owned: tuple[BinaryIO, ...] = (), on_delivered: OnDelivered | None = None
    ) -> None:
        self._stream = stream
        self._owned = owned  # closed by close(), innermost first
        self._on_delivered = on_delivered
        self._buffer: list[str] = []
        self._pending: Counter[str] = Counter()
        self._last_write = time.monotonic()
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

    def put(self, line: str, key: str, kind: str) -> None:
        buffer = self._buffer
        buffer.append(line)
        self._pending[kind] += 1
        if self._on_delivered is not None:
            self._on_delivered(line, key, kind)
        if len(buffer) >= _CHUNK:
            self._write()

    def poll(self) -> None:
        if self._buffer and time.monotonic() - self._last_write >= _LINGER_SECONDS:
            self._write()
            self._stream.flush()

    def close(self) -> Report:
        try:
            self._write()
            self._stream.flush()
        finally:
            for stream in self._owned:
                stream.close()
        return self.report

    def _write(self) -> None:
        if not self._buffer:
            return
        self._buffer.append("")
        data = "\n".join(self._buffer).encode()
        self._buffer = []
        self._stream.write(data)
        self.report.bytes += len(data)
        self.report.delivered.update(self._pending)
        self._pending.clear()
        self._last_write = time.monotonic()
