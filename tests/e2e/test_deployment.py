"""A clean environment with the production lock and the wheel, and nothing from the checkout, runs the ELT DAG on
the emulators from a dags folder holding only the DAG files and a plugins folder holding only the plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.package import build_wheel
from tests.support.paths import REPO
from tests.support.seed import seed_lines
from tests.support.warehouse import point_pipeline_at_emulators, put_ndjson


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def installer() -> list[str] | None:
    """uv's ``pip`` (beside this interpreter or on PATH), else None (then the stdlib venv and pip)."""
    found = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return [found, "pip"] if found else None


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
    subprocess.run([*install, "--require-hashes", "-r", str(REPO / "requirements.lock")], check=True, cwd=venv.parent)
    subprocess.run([*install, "--no-deps", str(wheel)], check=True, cwd=venv.parent)
    print(f"\ninstalled {wheel.name} and the production lock in {time.monotonic() - started:.0f} s ({install[0]})")
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
def test_an_airflow_with_the_wheel_and_the_dag_files_loads_and_transforms(
    deployed: Path, aws_endpoint, snowflake_server, snowflake_conn, snowflake_database, tmp_path, monkeypatch
) -> None:
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    for dag in (REPO / "dags").glob("*.py"):
        shutil.copy(dag, home / "dags")
    shutil.copytree(REPO / "plugins", home / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    s3, bucket = point_pipeline_at_emulators(monkeypatch, snowflake_server, aws_endpoint, snowflake_database)
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
    put_ndjson(s3, bucket, seed_lines())
    elt = airflow("dags", "test", "mobile_events_elt")
    assert elt.returncode == 0, (elt.stdout + elt.stderr)[-3000:]

    cursor = snowflake_conn.cursor()
    assert cursor.execute("select count(*) from raw.load_audit").fetchone()[0] >= 1
    assert cursor.execute("select count(*) from analytics.events").fetchone()[0] > 0
