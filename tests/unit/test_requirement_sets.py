"""The requirement sets and their hashed locks: each lock is current with its set, the locks agree, the
production set runs every DAG and holds no emulator.

Read offline: the locks ``make lock`` writes with uv (one per set), and every module the DAG files and the
Airflow plugins import, followed statically through the project's own packages down to the file each one is
loaded from and the distribution that installed that file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
EMULATORS = {"moto", "fakesnow", "duckdb"}  # the AWS emulator, the Snowflake emulator, fakesnow's engine
# Requirement set -> its lock, smallest set first (each set includes the one before it with -r).
LOCKS = {
    "requirements.txt": "requirements.lock",
    "requirements-local.txt": "requirements-local.lock",
    "requirements-dev.txt": "requirements-dev.lock",
}


@dataclass(frozen=True)
class Pin:
    """One entry of a lock: an exact version, the environments it applies to, the hashes pip checks."""

    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]


def top_level_pins(requirements_file: str) -> dict[str, str]:
    """Canonical name -> pinned version of what a requirements file names, following its ``-r`` includes."""
    pins: dict[str, str] = {}
    for raw in (REPO / requirements_file).read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            pins |= top_level_pins(line[3:].strip())
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{requirements_file}: {line!r} is not an exact pin"
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


@cache
def read_lock(lock: str) -> tuple[Pin, ...]:
    """The entries of a lock as uv writes it: ``name==version [; marker] \\`` then one ``--hash`` per line."""
    text = (REPO / lock).read_text(encoding="utf-8")
    pins = []
    for entry in re.sub(r"\\\n\s*", " ", text).splitlines():
        entry = entry.split("#", 1)[0].strip()
        if not entry:
            continue
        requirement, *hashes = entry.split(" --hash=")
        name, _, rest = requirement.partition("==")
        version, _, marker = rest.partition(";")
        pins.append(Pin(canonicalize_name(name), version.strip(), marker.strip(), tuple(h.strip() for h in hashes)))
    return tuple(pins)


def locked_names(lock: str) -> set[str]:
    return {pin.name for pin in read_lock(lock)}


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


def test_every_lock_entry_is_an_exact_version_with_hashes() -> None:
    """pip installs a lock with --require-hashes: every entry needs an exact version and at least one hash."""
    for lock in LOCKS.values():
        pins = read_lock(lock)
        assert len(pins) > 100, f"{lock} holds {len(pins)} entries: not a lock of the whole set"
        for pin in pins:
            assert re.fullmatch(r"[0-9][0-9A-Za-z.+!]*", pin.version), f"{lock}: {pin}"
            assert pin.hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), f"{lock}: {pin}"


def test_each_lock_is_current_with_its_requirement_set() -> None:
    """Every pin of a set (its includes too) is in its lock at the same version: an edit to requirements*.txt
    without `make lock` fails here."""
    for requirements_file, lock in LOCKS.items():
        locked = {(pin.name, pin.version) for pin in read_lock(lock)}
        for name, version in top_level_pins(requirements_file).items():
            assert (name, version) in locked, f"{requirements_file} pins {name}=={version}, {lock} does not"


def test_the_locks_agree_on_every_shared_package() -> None:
    """The sets nest, so their locks do: a package shared by two locks has the same version(s) and hashes in
    both (its markers may widen: a larger set can need it on more platforms), and a larger set's lock holds
    everything a smaller one does."""
    entries = {lock: {pin.name: set() for pin in read_lock(lock)} for lock in LOCKS.values()}
    for lock, by_name in entries.items():
        for pin in read_lock(lock):
            by_name[pin.name].add((pin.version, pin.hashes))
    production, local, dev = LOCKS.values()
    assert locked_names(production) < locked_names(local) < locked_names(dev)
    for smaller, larger in ((production, local), (local, dev), (production, dev)):
        for name, found in entries[smaller].items():
            assert found == entries[larger][name], (
                f"{name}: {smaller} has {found}, {larger} has {entries[larger][name]}"
            )


def test_the_production_lock_holds_no_emulator() -> None:
    production, local = locked_names("requirements.lock"), locked_names("requirements-local.lock")
    assert local >= EMULATORS, "the local set is where the emulators come from: this list is out of date"
    assert not production & EMULATORS, f"requirements.lock brings in {sorted(production & EMULATORS)}"


def test_every_module_the_dags_and_plugins_import_comes_from_the_production_set() -> None:
    reached, external = production_imports()
    production = locked_names("requirements.lock")
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
    registry), installs from requirements.lock exactly the entries whose markers hold here, none an emulator."""
    report = tmp_path / "report.json"
    pip = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--require-hashes"]
    done = subprocess.run(
        [*pip, "--report", str(report), "-r", "requirements.lock"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resolved = {canonicalize_name(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert not resolved & EMULATORS
    here = {pin.name for pin in read_lock("requirements.lock") if not pin.marker or Marker(pin.marker).evaluate()}
    assert resolved == here, f"pip installs {sorted(resolved - here)} beyond the lock, not {sorted(here - resolved)}"
