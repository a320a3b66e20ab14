"""The production requirement set (requirements.txt) runs every DAG and holds no emulator.

Read from the installed distributions' metadata, offline: a set's transitive closure (what
``pip install -r <set> -c <lock>`` installs), and every module the DAG files and the Airflow plugins
import, followed statically through the project's own packages down to the file each one is loaded from
and the distribution that installed that file.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
EMULATORS = {"moto", "fakesnow", "duckdb"}  # the AWS emulator, the Snowflake emulator, fakesnow's engine


@cache
def lock_requirements() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_requirements", REPO / "scripts" / "lock_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def closure(requirements_file: str) -> set[str]:
    locker = lock_requirements()
    return set(locker.closure(locker.requirements(REPO / requirements_file)))


def project_packages() -> set[str]:
    """What ships with the project: the packages pyproject.toml installs (and the image copies)."""
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


@cache
def file_owners() -> dict[str, str]:
    """Normalised path of every installed file -> canonical name of the distribution that installed it."""
    owners = {}
    for dist in metadata.distributions():
        base, name = str(dist.locate_file("")), canonicalize_name(dist.metadata["Name"])
        for line in (dist.read_text("RECORD") or "").splitlines():
            owners[os.path.normpath(os.path.join(base, line.rsplit(",", 2)[0]))] = name
    return owners


def module_file(dotted: str, roots: list[str]) -> str | None:
    """The file the longest importable prefix of ``dotted`` loads from, looked up without importing."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        for root in roots:
            base = Path(root, *parts[:n])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return os.path.normpath(candidate)
            if base.parent.is_dir():
                for ext in base.parent.glob(f"{parts[n - 1]}.*.so"):
                    return os.path.normpath(ext)
    return None


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Dotted names a module imports anywhere in its body (functions included); ``from a import b`` gives
    ``a.b`` and ``a``, since b may be a submodule or an attribute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "__future__":
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names)


def production_imports() -> tuple[set[str], dict[str, set[str]]]:
    """(project modules reached, external dotted name -> the project files importing it) from the DAG
    files and the Airflow plugins folder, through every project module they reach."""
    ours = project_packages()
    todo = [(path, f"dags.{path.stem}") for path in sorted((REPO / "dags").glob("*.py"))]
    plugins = sorted((REPO / "plugins").rglob("*.py"))
    todo += [(path, ".".join(path.relative_to(REPO).with_suffix("").parts)) for path in plugins]
    reached: set[str] = set()
    external: dict[str, set[str]] = {}
    while todo:
        path, module = todo.pop()
        if module in reached:
            continue
        reached.add(module)
        for name in imported_names(path, module):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names:
                continue
            if top not in ours:
                external.setdefault(name, set()).add(str(path.relative_to(REPO)))
                continue
            parts = name.split(".")
            for n in range(1, len(parts) + 1):  # the packages' __init__ modules run too
                found = module_file(".".join(parts[:n]), [str(REPO)])
                if found and ".".join(parts[:n]) not in reached:
                    todo.append((Path(found), ".".join(parts[:n])))
    return reached, external


def test_the_production_set_holds_no_emulator() -> None:
    production, local = closure("requirements.txt"), closure("requirements-local.txt")
    assert local >= EMULATORS, "the local set is where the emulators come from: this list is out of date"
    assert not production & EMULATORS, f"requirements.txt brings in {sorted(production & EMULATORS)}"
    assert production < local < closure("requirements-dev.txt")


def test_each_lock_pins_exactly_its_sets_closure() -> None:
    """The installed venv (make install: the dev set under its lock) is what every lock is derived from."""
    locker = lock_requirements()
    for requirements_file, lock in locker.LOCKS.items():
        assert (REPO / lock).read_text(encoding="utf-8") == locker.lock_text(requirements_file), (
            f"{lock} does not pin exactly what {requirements_file} installs: run `make lock`"
        )


def test_every_module_the_dags_and_plugins_import_comes_from_the_production_set() -> None:
    reached, external = production_imports()
    production = closure("requirements.txt")
    owners = file_owners()
    roots = [entry for entry in sys.path if entry and Path(entry).is_dir() and Path(entry).resolve() != REPO]
    wrong = {}
    for name, importers in sorted(external.items()):
        found = module_file(name, roots)
        owner = owners.get(found) if found else None
        if owner not in production:
            wrong[name] = f"{found or 'no such module'} ({owner or 'no distribution'}), imported by {sorted(importers)}"
    assert not wrong, "imported by production code but not installed by requirements.txt:\n" + "\n".join(
        f"  {name}: {why}" for name, why in wrong.items()
    )
    # The walk really went through the DAGs' own imports into the project and out to Airflow and its providers.
    assert {"warehouse", "data_generation", "config"} <= {module.split(".")[0] for module in reached}
    assert any(name.startswith("airflow.providers.amazon") for name in external)
    assert any(name.startswith("snowflake.connector") for name in external)


@pytest.mark.slow
def test_pip_resolves_the_production_set_to_its_lock_and_no_emulator(tmp_path: Path) -> None:
    """pip's own resolver, as a fresh Airflow deployment runs it (nothing installed, metadata from the
    registry), installs exactly the distributions constraints.txt pins, none of them an emulator."""
    report = tmp_path / "report.json"
    pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    done = subprocess.run(
        [*pip, "--report", str(report), "-r", "requirements.txt", "-c", "constraints.txt"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resolved = {canonicalize_name(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert not resolved & EMULATORS
    locked = {
        canonicalize_name(line.split("==")[0])
        for line in (REPO / "constraints.txt").read_text().split()
        if "==" in line
    }
    assert resolved == locked, (
        f"pip installs {sorted(resolved - locked)} beyond the lock, not {sorted(locked - resolved)}"
    )
