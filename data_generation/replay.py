"""Re-sending a dead-letter spool file, once the stream is reachable again.

The whole file is read before anything is sent, so a file that is not a spool fails first. A line
that is not JSON, at the end or anywhere else, is what a write cut short leaves (a kill, a full disk):
such torn lines are copied to ``<file>.torn`` (rewritten whole each time, so a rerun sets them aside
once), listed in the report and not sent; the good records around them are.

Every 500 records the replay waits until each record handed over is delivered or spooled and notes the
byte offset reached in ``<file>.replaying``: a replay killed outright, run again, starts there, so it
re-sends at most the records of the last unfinished stretch (Kinesis cannot say whether a call that got
no answer went in). Records that fail again, or are left unsent because the replay was stopped, go to
a new spool file; then the old file is renamed ``*.replayed``, since each of its records is now
delivered, in the new spool or set aside. Replaying it again would send everything twice.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from mobile_events_elt.config import ConfigError
from mobile_events_elt.data_generation.pipeline import StopFlag
from mobile_events_elt.data_generation.progress import Progress
from mobile_events_elt.data_generation.report import Report
from mobile_events_elt.data_generation.sinks import DeliveryError
from mobile_events_elt.data_generation.spool import SpoolEntry, TornLine, scan_spool, write_private

if TYPE_CHECKING:
    from mobile_events_elt.data_generation.producer import KinesisProducer

CHECKPOINT_EVERY = 500  # records between checkpoints: at most this many are re-sent after a hard kill


def spool_stream(path: Path) -> tuple[str, int]:
    """The one stream a spool file's records were meant for, and how many records it holds."""
    streams: Counter[str] = Counter()
    torn = 0
    for _, item in scan_spool(path):
        if isinstance(item, TornLine):
            torn += 1
        else:
            streams[item.stream] += 1
    if not streams:
        raise ConfigError(f"{path}: the spool file holds no records" + (f", only {torn:,} torn lines" if torn else ""))
    if len(streams) > 1:
        raise ConfigError(f"{path}: records for several streams ({', '.join(sorted(streams))}); pass --stream")
    ((stream, count),) = streams.items()
    return stream, count


def resumed_records(path: Path) -> int:
    """How many of the file's records an earlier replay, killed before it finished, already handed over."""
    return _checkpoint(path)[1]


def replay_spool(
    path: Path, producer: KinesisProducer, *, stop: StopFlag | None = None, progress: Progress | None = None
) -> Report:
    """Send every good record of the spool at ``path`` through ``producer``, set its torn lines aside in
    ``<file>.torn``, then rename the file ``*.replayed``."""
    if producer.spool.path.resolve() == path.resolve():
        raise ValueError(f"{path}: cannot spool a replay's failures into the file being replayed")
    stop = stop or StopFlag()
    start = time.monotonic()
    offset, done = _checkpoint(path)
    torn = _survey(path, offset, done)
    torn_path = _set_aside(path, torn) if torn else None
    entries = (  # one iterator: what the loop does not take is spooled below
        (end, item) for end, item in scan_spool(path) if end > offset and isinstance(item, SpoolEntry)
    )
    reached, handed = offset, 0  # byte offset past the last entry handed over; entries handed to send or spool
    interrupted = False
    try:
        for reached, entry in entries:
            handed += 1
            if stop.requested:
                producer.defer([(entry.line, entry.partition_key, entry.kind)], "not replayed: the replay was stopped")
                break
            producer.put(entry.line, entry.partition_key, entry.kind)
            if handed % CHECKPOINT_EVERY == 0:
                producer.flush()  # every record handed over is now delivered or spooled
                _save_checkpoint(path, reached, done + handed)
            if progress is not None and handed % 1024 == 0:
                progress.update(handed, handed, time.monotonic() - start)
    except DeliveryError:
        pass  # recorded in the report; the rest is spooled below
    except KeyboardInterrupt:
        interrupted = True
    try:
        producer.flush()
    except KeyboardInterrupt:  # the producer spooled what Kinesis had not confirmed
        interrupted = True
    rest = list(entries)
    if rest:
        reached = rest[-1][0]
        unsent = [(entry.line, entry.partition_key, entry.kind) for _, entry in rest]
        producer.defer(unsent, producer.report.error or "not replayed: the replay was stopped")
    _save_checkpoint(path, reached, done + handed + len(rest))  # all delivered or spooled: a kill now re-sends none
    report = producer.close()
    if progress is not None:
        progress.finish(handed, handed, time.monotonic() - start)
    report.seconds = time.monotonic() - start
    report.generated = handed + len(rest)
    report.interrupted = interrupted or stop.requested
    report.torn_lines = [line.number for line in torn]
    report.torn_path = torn_path
    _retire(path)
    return report


def _survey(path: Path, offset: int, done: int) -> list[TornLine]:
    """The file's torn lines, after checking that the checkpoint still fits it (a line ends at ``offset``
    and ``done`` records come before it), so a changed file is not resumed at a wrong place."""
    torn: list[TornLine] = []
    before = 0
    fits = offset == 0
    for end, item in scan_spool(path):
        if isinstance(item, TornLine):
            torn.append(item)
        elif end <= offset:
            before += 1
        fits = fits or end == offset
    if not fits or before != done:
        raise ConfigError(
            f"{_checkpoint_path(path)}: says {done:,} records (to byte {offset:,}) were replayed, which does not "
            f"fit {path}; if the file was changed on purpose, delete the checkpoint to replay it from the start"
        )
    return torn


def _set_aside(path: Path, torn: list[TornLine]) -> Path:
    target = path.with_name(path.name + ".torn")
    write_private(target, b"".join(line.data + b"\n" for line in torn))
    return target


def _checkpoint_path(path: Path) -> Path:
    return path.with_name(path.name + ".replaying")


def _checkpoint(path: Path) -> tuple[int, int]:
    """(byte offset, records) an earlier, killed replay of ``path`` got through; (0, 0) if none."""
    checkpoint = _checkpoint_path(path)
    try:
        saved = json.loads(checkpoint.read_bytes())
        return int(saved["offset"]), int(saved["records"])
    except FileNotFoundError:
        return 0, 0
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"{checkpoint}: unreadable replay checkpoint ({exc}); delete it to replay {path} from the start"
        ) from None


def _save_checkpoint(path: Path, offset: int, records: int) -> None:
    write_private(_checkpoint_path(path), json.dumps({"offset": offset, "records": records}).encode())


def _retire(path: Path) -> None:
    """Rename the replayed file, then drop its checkpoint (a kill in between leaves only the checkpoint)."""
    path.rename(_replayed_name(path))
    _checkpoint_path(path).unlink(missing_ok=True)


def _replayed_name(path: Path) -> Path:
    target = path.with_name(path.name + ".replayed")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.replayed-{number}")
    return target
