"""The dead-letter spool: records Kinesis did not accept, kept on local disk until they can be re-sent.

One NDJSON file per producer run, one object per record: the record's line and partition key exactly
as they were to be sent, its kind (so a replay reports duplicates and malformed records correctly), the
stream, the last error and the number of attempts. The file is created, owner-only, only when something
fails. Each batch goes in with one append and is fsynced before the producer moves on, so a crash does
not lose what it holds; a write that fails part-way (a full disk) is cut back to the last whole line.

A kill or a power cut mid-write can still leave half a line (a torn line). Appending to such a file
starts a new line first, so a torn line never swallows a later record; reading, ``scan_spool`` yields
every line that is not JSON as a ``TornLine`` instead of refusing the file.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mobile_events_elt.config import ConfigError
from mobile_events_elt.data_generation.report import KINDS_HELP, is_kind

# Relative to the working directory (the checkout under make, PROJECT_DIR in the image), never the installed package.
SPOOL_DIR = Path(".local") / "spool"


@dataclass(frozen=True)
class SpoolEntry:
    stream: str
    line: str
    partition_key: str
    kind: str


@dataclass(frozen=True)
class TornLine:
    """A line that is not JSON: what a write cut short leaves. ``data`` is its bytes, without the newline."""

    number: int
    offset: int
    data: bytes


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
        self._fd: int | None = None

    def write(self, records: list[tuple[str, str, str]], error: str, attempts: int) -> None:
        """Append (line, partition key, kind) records, all or none, and make them durable before returning."""
        if not records:
            return
        if self._fd is None:
            self._fd = _open_for_append(self.path)
        failed_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        data = "".join(
            json.dumps(
                {
                    "stream": self.stream,
                    "partition_key": key,
                    "kind": kind,
                    "data": line,
                    "error": error,
                    "attempts": attempts,
                    "failed_at": failed_at,
                }
            )
            + "\n"
            for line, key, kind in records
        ).encode()
        end = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            _write_all(self._fd, data)
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, end)  # no half batch left behind: these records are not spooled
            raise
        self.count += len(records)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open_for_append(path: Path) -> int:
    """An appending descriptor on ``path`` (created 0600); a file that ends mid-line gets its newline first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            _write_all(fd, b"\n")
    except OSError:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (0600, fsynced): a reader sees the old content or the new, never part."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)


def scan_spool(path: Path) -> Iterator[tuple[int, SpoolEntry | TornLine]]:
    """Each non-blank line of a spool file with the byte offset just past it: an entry, or a torn line.

    A line that is JSON but not a spool entry is no torn write: ConfigError names it (the file is
    probably not a spool at all)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the spool file: {exc.strerror}") from None
    with handle:
        offset = 0
        for number, raw in enumerate(handle, 1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except ValueError:  # not UTF-8, or not JSON: a prefix of an entry never is
                yield offset, TornLine(number, start, raw.removesuffix(b"\n"))
                continue
            yield offset, _entry(path, number, value)


def read_spool(path: Path) -> Iterator[SpoolEntry]:
    """The entries of a spool file, its torn lines left out (``scan_spool`` yields those too)."""
    return (item for _, item in scan_spool(path) if isinstance(item, SpoolEntry))


def _entry(path: Path, number: int, raw: object) -> SpoolEntry:
    fields = ("stream", "data", "partition_key", "kind")
    if not isinstance(raw, dict) or not all(isinstance(raw.get(f), str) and raw.get(f) for f in fields):
        raise ConfigError(f"{path}:{number}: not a spool entry (needs non-empty strings {', '.join(fields)})")
    if not is_kind(raw["kind"]):
        raise ConfigError(f"{path}:{number}: unknown kind {raw['kind']!r} (expected {KINDS_HELP})")
    return SpoolEntry(raw["stream"], raw["data"], raw["partition_key"], raw["kind"])
