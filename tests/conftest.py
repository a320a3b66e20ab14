"""Shared fixtures: the local stack's real emulator servers, started once per test session on free ports.

Each server runs as its own process (the same launchers `make up` uses), bound to 127.0.0.1 and stopped
by PID at the end of the session. Tests reach them over HTTP with boto3 and the snowflake connector.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobile_events_elt.local_stack import processes
from mobile_events_elt.local_stack.ports import free_port
from tests.support.fixtures import config_copy, permissive_umask, sql_copy  # noqa: F401  (registered here)
from tests.support.statements import snowflake_command

REPO = Path(__file__).resolve().parents[1]

# Airflow reads its configuration once, at first import: point it at a throwaway home before any test
# imports it, so tests never touch a developer's ~/airflow or the local stack's metadata database.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-test-")
os.environ.update(
    {
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
)

# The tests' Snowflake is the emulator: dbt builds with its target (sql/macros/emulator/).
os.environ["WAREHOUSE_DBT_TARGET"] = "emulator"
# Under pytest-xdist each worker is a process with emulators of its own, and dbt's working folder (the parse
# cache, target and logs) is one per worker too.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["WAREHOUSE_DBT_DIR"] = str(Path(tempfile.gettempdir()) / f"mobile-events-dbt-{os.getuid()}-{worker}")

# Credentials the AWS emulator accepts; not secrets. Set before any boto3 client is built.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# Test kinds (pyproject.toml's markers) are the folders: each test gets its folder's marker. A test that
# uses a fixture of a heavier kind, even through another fixture, fails collection, so a folder cannot hold
# a test heavier than its name says.
KINDS = ("unit", "integration", "e2e")
KIND_OF_FIXTURE = {
    "aws_endpoint": "integration",
    "snowflake_server": "integration",
    "run_dir": "integration",  # where the tests start servers of their own
    "airflow_home": "e2e",
}
TESTS = Path(__file__).resolve().parent


def kind_of(item: pytest.Item) -> str:
    """The folder under tests/ the test's module is in: one of KINDS."""
    folder = item.path.resolve().relative_to(TESTS).parts[0]
    if folder not in KINDS:
        raise pytest.UsageError(f"{item.nodeid}: a test module belongs in one of tests/{{{','.join(KINDS)}}}/")
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = kind_of(item)
        declared = {mark.name for mark in item.iter_markers() if mark.name in KINDS} - {kind}
        if declared:
            raise pytest.UsageError(f"{item.nodeid} is in tests/{kind} but marked {sorted(declared)}")
        for name in getattr(item, "fixturenames", ()):
            needed = KIND_OF_FIXTURE.get(name)
            if needed and KINDS.index(needed) > KINDS.index(kind):
                raise pytest.UsageError(
                    f"{item.nodeid} is in tests/{kind} but uses the {name} fixture, which makes it {needed}: "
                    f"move it to tests/{needed}"
                )
        item.add_marker(kind)
    # Modules with slow tests (minutes each) start first, whole, so that `make test`'s two workers finish together.
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
def aws_endpoint(run_dir: Path) -> Iterator[str]:
    """URL of a moto server (with the launcher's fixes); AWS_ENDPOINT_URL points boto3 at it."""
    port = free_port()
    name = f"aws-{port}"
    processes.start(
        name,
        [sys.executable, "-m", "mobile_events_elt.local_stack.aws_emulator", "--port", str(port)],
        run_dir,
        # A journal named in the developer's shell (AWS_EMULATOR_JOURNAL) is not the tests' to write to.
        env={**{k: v for k, v in os.environ.items() if k != "AWS_EMULATOR_JOURNAL"}, "PYTHONPATH": str(REPO)},
        wait_port=port,
    )
    url = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*LOCAL_AWS_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(LOCAL_AWS_ENV, AWS_ENDPOINT_URL=url)
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    processes.stop(name, run_dir)


@pytest.fixture(scope="session")
def snowflake_server(run_dir: Path) -> Iterator[dict[str, object]]:
    """Connection parameters for a fakesnow server started by the local-stack launcher."""
    from mobile_events_elt.local_stack.environment import snowflake_login_secret

    port = free_port()
    name = f"snowflake-{port}"
    data_dir = run_dir / f"snowflake-{port}"
    processes.start(
        name,
        snowflake_command(port, data_dir),
        run_dir,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        wait_port=port,
    )
    password = snowflake_login_secret(data_dir)  # the emulator refuses any other
    os.environ["WAREHOUSE_DBT_PASSWORD"] = password  # dbt's login for a bare connection (warehouse/dbt_runner.py)
    yield {
        "host": "127.0.0.1",
        "port": port,
        "protocol": "http",
        "account": "local",
        "user": "local",
        "password": password,
        "network_timeout": 10,
    }
    processes.stop(name, run_dir)


@pytest.fixture
def snowflake_database(snowflake_server: dict[str, object]) -> str:
    """A database name of the test's own, so tests on the shared server never see each other's rows."""
    return f"TEST_{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture
def snowflake_conn(snowflake_server: dict[str, object], snowflake_database: str) -> Iterator[object]:
    import snowflake.connector

    conn = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
    conn.cursor().execute(f"create database if not exists {snowflake_database}")
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def airflow_home(run_dir: Path) -> Path:
    """A migrated Airflow metadata database of the session's own (AIRFLOW_HOME is set at import, below)."""
    import subprocess

    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
    )
    return Path(os.environ["AIRFLOW_HOME"])
