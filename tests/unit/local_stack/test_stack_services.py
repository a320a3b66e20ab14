"""The service description (local_stack/services.py) gives each stack the processes it needs, and a Celery
worker names itself; the state folder keeps only the group permission the PostgreSQL server needs."""

from __future__ import annotations

import os
import socket

import pytest

from mobile_events_elt.local_stack import services, worker_name
from mobile_events_elt.local_stack.private_state import private_folder
from tests.support.paths import mode


def test_the_celery_profile_adds_the_datastores_and_workers() -> None:
    local = {s.name for s in services.in_profile(services.DEFAULT)}
    celery = {s.name for s in services.in_profile(services.CELERY)}
    compose = {s.name for s in services.in_profile(services.DEFAULT, local=False)}
    assert celery - local == {"postgres", "redis", "airflow-worker"}
    assert "postgres" in compose and "postgres" not in local  # make up keeps Airflow's metadata in SQLite


def test_commands_are_rendered_for_the_target() -> None:
    worker = services.service("airflow-worker")
    command = services.render(worker.command, {"airflow": "/venv/bin/airflow", "worker": "worker-2"})
    assert command[:3] == ["/venv/bin/airflow", "celery", "worker"]
    assert "worker-2@%h" in command


def test_a_named_worker_is_the_tasks_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_STACK_WORKER", "worker-2")
    assert worker_name.hostname() == f"worker-2@{socket.getfqdn()}"
    monkeypatch.delenv("LOCAL_STACK_WORKER")
    assert worker_name.hostname() == socket.getfqdn()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another group needs root")
def test_a_private_folder_keeps_a_handed_over_groups_search_permission_only(tmp_path) -> None:
    """local_stack/datastores.py gives PostgreSQL's server user search on the state folder; nothing more survives."""
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o777)
    private_folder(folder)
    assert mode(folder) == 0o700  # the owner's own group: closed
    os.chown(folder, -1, 65534)  # handed to another group
    folder.chmod(0o777)
    private_folder(folder)
    assert mode(folder) == 0o710
