"""The distribution: its wheel holds every SQL file, template and config file and the console scripts; the DAG
files and the plugin import only the installed package."""

from __future__ import annotations

import ast
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.package import ROOT, build_wheel
from tests.support.paths import REPO

# The checkout's folders that are packages of the distribution (pyproject's package-dir) and the root's folder:
# a DAG or plugin importing one of these by its folder name would only work from a checkout.
CHECKOUT_NAMES = {"config", "data_generation", "aws_infrastructure", "warehouse", "local_stack", "sql", "package"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def tracked(pattern: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--", pattern], cwd=REPO, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.splitlines() if "__pycache__" not in name]


def test_the_wheel_holds_every_sql_file_template_and_config_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{ROOT}/{name}" for name in [*tracked("sql"), *tracked("warehouse/templates"), *tracked("config/*.json")]
    }
    assert len(expected) > 50 and f"{ROOT}/warehouse/templates/health.html" in expected
    assert not expected - names, f"missing from {wheel.name}: {sorted(expected - names)}"
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    for script in ("mobile-events-generate", "mobile-events-warehouse", "mobile-events-aws", "mobile-events-stack"):
        assert f"{script} = {ROOT}." in scripts


def deployment_files() -> list[Path]:
    return (
        sorted((REPO / "dags").glob("*.py"))
        + sorted((REPO / "plugins").rglob("*.py"))
        + sorted((REPO / "deploy").glob("*.py"))
    )


def test_dags_and_plugins_import_only_the_installed_package() -> None:
    """What is copied to Airflow's dags and plugins folders reaches the project only through ``mobile_events_elt``,
    and never the local stack (an emulator is not installed where the DAGs run)."""
    wrong = []
    for path in deployment_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module.split(".")[0] in CHECKOUT_NAMES or module.startswith(f"{ROOT}.local_stack"):
                    wrong.append(f"{path.relative_to(REPO)}:{node.lineno}: {module}")
    assert not wrong, "imports that need the checkout or the emulators:\n" + "\n".join(wrong)
    assert any(ROOT in path.read_text(encoding="utf-8") for path in deployment_files())


def test_the_image_installs_the_locked_set_and_the_package_and_copies_only_dags_and_plugins() -> None:
    """docker/Dockerfile builds the package from every folder pyproject maps into it, after the hashed lock."""
    import re
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    built = set(re.findall(r"^COPY --chown=airflow:0 (\w+)/ /tmp/src/\1/$", dockerfile, re.MULTILINE))
    assert folders <= built, f"not in the package the image builds: {sorted(folders - built)}"
    assert re.search(r"pip install --no-cache-dir --require-hashes -r", dockerfile)
    assert re.search(r"^RUN pip install --no-cache-dir --no-deps /tmp/src\b", dockerfile, re.MULTILINE)
    copied = set(re.findall(r"^COPY (\w+)/ \$\{PROJECT_DIR\}/\1/$", dockerfile, re.MULTILINE))
    assert copied == {"dags", "plugins"}


def test_no_dag_or_plugin_file_shadows_the_import_root() -> None:
    """Airflow puts the dags and plugins folders on sys.path: a file named like the package would be imported
    in its place by every process that inherits that path (a spawned producer, a task's subprocess)."""
    shadowing = [path for path in deployment_files() if path.stem == ROOT or path.parent.name == ROOT]
    assert not shadowing, f"named like the import root {ROOT}: {shadowing}"
