"""Where the tests find the repository and the vendored data, wherever the test module sits under
tests/; the permission bits of a path."""

from __future__ import annotations

import stat
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "tests" / "data"


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return stat.S_IMODE(path.stat().st_mode)
