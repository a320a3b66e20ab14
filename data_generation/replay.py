"""Re-sending a dead-letter spool file, once the stream is reachable again.

The file is read twice: first to check every entry and find the stream (so a bad file fails before
anything is sent), then to send. Records that fail again, or are left unsent because the replay was
stopped, go to a new spool file; then the old file is renamed ``*.replayed``, since each of its records
is now either delivered or in the new spool. Replaying it again would send everything twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from config import ConfigError
from data_generation.pipeline import StopFlag
from data_generation.progress import Progress
from data_generation.report import Report
from data_generation.sinks import DeliveryError
from data_generation.spool import read_spool

if TYPE_CHECKING:
    from data_generation.producer import KinesisProducer


def spool_stream(path: Path) -> tuple[str, int]:
    """The one stream a spool file's records were meant for, and how many records it holds."""
    streams: dict[str, int] = {}
    for entry in read_spool(path):
        streams[entry.stream] = streams.get(entry.stream, 0) + 1
    if not streams:
        raise ConfigError(f"{path}: the spool file holds no records")
    if len(streams) > 1:
        raise ConfigError(f"{path}: records for several streams ({', '.join(sorted(streams))}); pass --stream")
    ((stream, count),) = streams.items()
    return stream, count


def replay_spool(
    path: Path, producer: KinesisProducer, *, stop: StopFlag | None = None, progress: Progress | None = None
) -> Report:
    """Send every record of the spool at ``path`` through ``producer``, then rename the file ``*.replayed``."""
    if producer.spool.path.resolve() == path.resolve():
        raise ValueError(f"{path}: cannot spool a replay's failures into the file being replayed")
    stop = stop or StopFlag()
    start = time.monotonic()
    entries = read_spool(path)
    handed = 0  # entries given to the producer, to send or to spool
    interrupted = False
    try:
        for entry in entries:
            handed += 1
            if stop.requested:
                producer.defer([(entry.line, entry.partition_key, entry.kind)], "not replayed: the replay was stopped")
                break
            producer.put(entry.line, entry.partition_key, entry.kind)
            if progress is not None and handed % 1024 == 0:
                progress.update(handed, handed, time.monotonic() - start)
    except DeliveryError:
        pass  # recorded in the report; the rest is spooled below
    except KeyboardInterrupt:
        interrupted = True
    rest = [(entry.line, entry.partition_key, entry.kind) for entry in entries]
    if rest:
        producer.defer(rest, producer.report.error or "not replayed: the replay was stopped")
    report = producer.close()
    if progress is not None:
        progress.finish(handed, handed, time.monotonic() - start)
    report.seconds = time.monotonic() - start
    report.generated = handed + len(rest)
    report.interrupted = interrupted or stop.requested
    path.rename(_replayed_name(path))
    return report


def _replayed_name(path: Path) -> Path:
    target = path.with_name(path.name + ".replayed")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.replayed-{number}")
    return target
