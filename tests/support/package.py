"""The project's wheel, built by pip from a copy of the checkout (so no build/ folder of the checkout's leaks in)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO

ROOT = "mobile_events_elt"


def build_wheel(base: Path) -> Path:
    """Build the wheel into ``base`` and return its path."""
    source = base / "source"
    anywhere = shutil.ignore_patterns(
        ".git", ".venv", ".local", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
    )

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {"tests", "benchmarks"} if Path(folder) == REPO else set()  # sql/tests/ is the dbt project's
        return set(anywhere(folder, names)) | (top & set(names))

    shutil.copytree(REPO, source, ignore=ignore)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(base)]
    subprocess.run([*command, str(source)], check=True, capture_output=True)
    (built,) = base.glob("*.whl")
    return built
