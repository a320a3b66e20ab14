"""Run import-linter (the contracts in pyproject.toml's [tool.importlinter]) on the package as it installs.

import-linter reads a package from one folder, but pyproject's package-dir maps mobile_events_elt's
subpackages onto the checkout's top-level folders; so the Python files are laid out as installed in a
temporary folder first, and that folder is what import-linter sees.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lay_out(target: Path) -> None:
    """Copy every package's .py files from its folder to where it installs (mobile_events_elt/...)."""
    folders = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    for package, folder in folders.items():
        for source in (REPO / folder).rglob("*.py"):
            if "__pycache__" in source.parts:
                continue
            destination = target.joinpath(*package.split("."), source.relative_to(REPO / folder))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


def main() -> int:
    from importlinter.cli import lint_imports

    with tempfile.TemporaryDirectory(prefix="lint-imports-") as folder:
        lay_out(Path(folder))
        sys.path.insert(0, folder)
        return lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)


if __name__ == "__main__":
    sys.exit(main())
