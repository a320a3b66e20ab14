"""The spool file's own guarantees: torn lines are read back as such, an append after a torn tail
starts a new line in a private file, a full disk leaves no half batch."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError
from data_generation.spool import SpoolEntry, TornLine, read_spool, scan_spool
from tests.support.paths import REPO
from tests.support.spool import records, spool_file, tear


def test_the_reader_yields_torn_lines_anywhere_and_still_refuses_a_file_that_is_not_a_spool(tmp_path: Path) -> None:
    path = spool_file(tmp_path / "s.ndjson", "s", [records(2)])
    good = path.read_bytes()
    cut, garbled = b'{"stream": "s", "da\n', b"\xff\xfe not utf-8\n"
    path.write_bytes(good + cut + garbled + good + b"\x00" * 40)
    items = [item for _, item in scan_spool(path)]
    assert [type(item) for item in items] == [
        SpoolEntry,
        SpoolEntry,
        TornLine,
        TornLine,
        SpoolEntry,
        SpoolEntry,
        TornLine,
    ]
    torn = [item for item in items if isinstance(item, TornLine)]
    assert [(t.number, t.data) for t in torn] == [
        (3, b'{"stream": "s", "da'),
        (4, b"\xff\xfe not utf-8"),
        (7, b"\x00" * 40),
    ]
    assert [t.offset for t in torn] == [len(good), len(good) + len(cut), 2 * len(good) + len(cut) + len(garbled)]
    assert [e.line for e in read_spool(path)] == [line for line, _, _ in records(2) * 2]

    path.write_bytes(good + b'{"stream": "s", "data": 5}\n')  # whole JSON, not an entry: not what a tear leaves
    with pytest.raises(ConfigError, match=r"s\.ndjson:3: not a spool entry"):
        list(scan_spool(path))


def test_an_append_after_a_torn_tail_starts_a_new_line_in_a_private_file(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = spool_file(tmp_path / "spool" / "s.ndjson", "s", [records(3)])
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    half = tear(path, "s", records(4)[3])
    spool_file(path, "s", [records(2, seed=9)])  # the same --spool file, next run
    items = [item for _, item in scan_spool(path)]
    assert [e.line for e in items if isinstance(e, SpoolEntry)] == [r[0] for r in records(3) + records(2, seed=9)]
    assert [(t.number, t.data) for t in items if isinstance(t, TornLine)] == [(4, half)]


def test_a_write_that_fills_the_disk_leaves_no_half_batch(tmp_path: Path) -> None:
    """RLIMIT_FSIZE is the kernel refusing to grow the file, as a full disk does: the write stops part-way."""
    path = tmp_path / "s.ndjson"
    script = f"""
import itertools, resource, signal
from pathlib import Path
from data_generation.generator import EventGenerator
from data_generation.spool import Spool
records = lambda n, seed=5: list(itertools.islice(EventGenerator(seed=seed, users=50), n))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
spool = Spool(Path({str(path)!r}), "s")
spool.write(records(3), "first", 1)
try:
    spool.write(records(20, seed=6), "second", 1)
except OSError as exc:
    print(exc.errno, spool.count)
"""
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["27", "3"]  # EFBIG, and only the first batch counts as spooled
    assert [e.line for e in read_spool(path)] == [line for line, _, _ in records(3)]
    assert path.read_bytes().endswith(b"\n")
