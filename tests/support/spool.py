"""Generated records written to a spool file, whole or torn part-way."""

from __future__ import annotations

import itertools
from pathlib import Path

from data_generation.generator import EventGenerator
from data_generation.spool import Spool


def records(n: int, seed: int = 5) -> list[tuple[str, str, str]]:
    return list(itertools.islice(EventGenerator(seed=seed, users=50), n))


def spool_file(path: Path, stream: str, batches: list[list[tuple[str, str, str]]]) -> Path:
    spool = Spool(path, stream)
    for batch in batches:
        spool.write(batch, "ServiceUnavailable: injected", 6)
    spool.close()
    return path


def tear(path: Path, stream: str, record: tuple[str, str, str]) -> bytes:
    """Append the first half of ``record``'s spool line, as a write cut short leaves it; return those bytes."""
    scratch = spool_file(path.with_name("scratch.ndjson"), stream, [[record]])
    line = scratch.read_bytes()
    scratch.unlink()
    half = line[: len(line) // 2]
    with open(path, "ab") as handle:
        handle.write(half)
    return half
