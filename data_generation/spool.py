"""The dead-letter spool: records Kinesis did not accept, kept on local disk until they can be re-sent.

One NDJSON file per producer run, one object per record: the record's line and partition key exactly
as they were to be sent, its kind (so a replay reports duplicates and malformed records correctly), the
stream, the last error and the number of attempts. The file is created only when something fails, and
each batch is flushed and fsynced before the producer moves on, so a crash does not lose what it holds.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from config import ConfigError
from data_generation.report import KINDS_HELP, is_kind

SPOOL_DIR = Path(__file__).resolve().parents[1] / ".local" / "spool"


@dataclass(frozen=True)
class SpoolEntry:
    stream: str
    line: str
    partition_key: str
    kind: str


_serial = itertools.count(1)


def default_spool_path(stream: str) -> Path:
    """A new file under .local/spool/ named for the stream, the UTC time, the process and a serial number."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return SPOOL_DIR / f"{stream}-{stamp}-{os.getpid()}-{next(_serial)}.ndjson"


class Spool:
    """Appends undelivered records to ``path``; the file appears with the first record."""

    def __init__(self, path: Path, stream: str) -> None:
        self.path = path
        self.stream = stream
        self.count = 0
        self._file: IO[str] | None = None

    def write(self, records: list[tuple[str, str, str]], error: str, attempts: int) -> None:
        """Append (line, partition key, kind) records and make them durable before returning."""
        if not records:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        failed_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        for line, key, kind in records:
            entry = {
                "stream": self.stream,
                "partition_key": key,
                "kind": kind,
                "data": line,
                "error": error,
                "attempts": attempts,
                "failed_at": failed_at,
            }
            self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.count += len(records)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_spool(path: Path) -> Iterator[SpoolEntry]:
    """The entries of a spool file; ConfigError names the line of the first entry that is not one."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the spool file: {exc.strerror}") from None
    with handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not a spool entry (invalid JSON: {exc.msg})") from None
            fields = ("stream", "data", "partition_key", "kind")
            if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) and raw.get(f) for f in fields):
                raise ConfigError(f"{path}:{number}: not a spool entry (needs non-empty strings {', '.join(fields)})")
            if not is_kind(raw["kind"]):
                raise ConfigError(f"{path}:{number}: unknown kind {raw['kind']!r} (expected {KINDS_HELP})")
            yield SpoolEntry(raw["stream"], raw["data"], raw["partition_key"], raw["kind"])
