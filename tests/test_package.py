"""The distribution: its wheel holds every SQL file, template and config file; the DAG files and the plugin import
only the installed package; and a clean environment with the wheel and the production requirements, and nothing
from the checkout, runs the ELT DAG on the emulators."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seed import seed_lines
from tests.warehouse_helpers import point_pipeline_at_emulators, put_ndjson

REPO = Path(__file__).resolve().parents[1]
ROOT = "mobile_events_elt"
# The checkout's folders that are packages of the distribution (pyproject's package-dir) and the root's folder:
# a DAG or plugin importing one of these by its folder name would only work from a checkout.
CHECKOUT_NAMES = {"config", "data_generation", "aws_infrastructure", "warehouse", "local_stack", "sql", "package"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from a copy of the checkout (so no build/ folder of the checkout's leaks in)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", ".local", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests", "benchmarks"
    )
    shutil.copytree(REPO, source, ignore=ignore)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(base)]
    subprocess.run([*command, str(source)], check=True, capture_output=True)
    (built,) = base.glob("*.whl")
    return built


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
    return sorted((REPO / "dags").glob("*.py")) + sorted((REPO / "plugins").rglob("*.py"))


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


def installer() -> list[str] | None:
    """uv's ``pip`` (beside this interpreter or on PATH), else None (then the stdlib venv and pip)."""
    found = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return [found, "pip"] if found else None


def production_requirements() -> list[str]:
    """requirements.txt, under its lock (constraints.txt) when it has one."""
    options = ["-r", str(REPO / "requirements.txt")]
    lock = REPO / "constraints.txt"
    return [*options, "-c", str(lock)] if lock.is_file() else options


@pytest.fixture(scope="module")
def deployed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment holding the wheel and the production set and nothing of the checkout; its bin/."""
    venv = tmp_path_factory.mktemp("deployed") / "venv"
    uv = installer()
    started = time.monotonic()
    if uv:
        subprocess.run([uv[0], "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        install = [*uv, "install", "--quiet", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*install, str(wheel), *production_requirements()], check=True, cwd=venv.parent)
    print(f"\ninstalled {wheel.name} and requirements.txt in {time.monotonic() - started:.0f} s ({install[0]})")
    yield venv / "bin"


def airflow_env(home: Path, bin_dir: Path) -> dict[str, str]:
    """Airflow pointed at a home of its own; the connections and AWS settings the fixtures put in this process's
    environment; no PYTHONPATH, so only what is installed in the venv can be imported."""
    passed = ("AIRFLOW_CONN_", "AWS_", "SNOWFLAKE_DATABASE", "ELT_")
    env = {name: value for name, value in os.environ.items() if name.startswith(passed)}
    return {
        **env,
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def last_json(stdout: str) -> object:
    """The JSON document a CLI printed on its last line (Airflow logs its warnings to stdout first)."""
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.stack
def test_an_airflow_with_the_wheel_and_the_dag_files_loads_and_transforms(
    deployed: Path, aws_endpoint, snowflake_server, snowflake_conn, snowflake_database, tmp_path, monkeypatch
) -> None:
    from mobile_events_elt.warehouse import listing_marker

    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    for dag in (REPO / "dags").glob("*.py"):
        shutil.copy(dag, home / "dags")
    shutil.copytree(REPO / "plugins", home / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    s3, bucket = point_pipeline_at_emulators(monkeypatch, snowflake_server, aws_endpoint, snowflake_database)
    listing_marker.reset(s3, bucket)  # the bucket is the session's: earlier tests' runs may have moved it
    env = airflow_env(home, deployed)

    def airflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(deployed / "airflow"), *args], cwd=home, env=env, capture_output=True, text=True, check=False
        )

    where = [str(deployed / "python"), "-c", "import importlib.resources as r; print(r.files('mobile_events_elt.sql'))"]
    sql_folder = subprocess.run(where, cwd=home, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(sql_folder).is_relative_to(deployed.parent), f"the package was imported from {sql_folder}"

    migrated = airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    errors = airflow("dags", "list-import-errors", "--local", "--output", "json")
    assert errors.returncode == 0, errors.stderr[-3000:]
    assert last_json(errors.stdout) == []
    listed = airflow("dags", "list", "--local", "--output", "json")
    assert {"mobile_events_elt", "snowflake_setup"} <= {dag["dag_id"] for dag in last_json(listed.stdout)}

    setup = airflow("dags", "test", "snowflake_setup")
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-3000:]
    key = put_ndjson(s3, bucket, seed_lines())
    try:
        elt = airflow("dags", "test", "mobile_events_elt")
    finally:
        s3.delete_object(Bucket=bucket, Key=key)  # the bucket is the session's: later tests start without it
    assert elt.returncode == 0, (elt.stdout + elt.stderr)[-3000:]

    cursor = snowflake_conn.cursor()
    assert cursor.execute("select count(*) from raw.load_audit").fetchone()[0] >= 1
    assert cursor.execute("select count(*) from analytics.events").fetchone()[0] > 0
