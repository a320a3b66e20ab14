"""The dbt preload (warehouse/dbt_preload.py): a manifest parsed before is reused only for the same project files
and target; a stale or missing one leaves the build to parse the project as it would without the preload."""

from __future__ import annotations

import shutil

import pytest

from mobile_events_elt.warehouse import dbt_preload, dbt_runner
from tests.support.dbt import OFFLINE, REAL_TARGET

PROBE = "preload_probe"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the dbt project that the test may change, and no manifest parsed before in this process."""
    copy = tmp_path / "sql"
    shutil.copytree(dbt_runner.PROJECT_DIR, copy)
    monkeypatch.setattr(dbt_runner, "PROJECT_DIR", copy)
    monkeypatch.setattr(dbt_runner, "_manifests", {})
    monkeypatch.setenv("WAREHOUSE_DBT_DIR", str(tmp_path / "dbt"))
    return copy


def compiled(model: str) -> dict[str, str]:
    nodes = dbt_runner.invoke(REAL_TARGET, ["compile", *OFFLINE, "--select", model])
    return {node.node: node.compiled for node in nodes}


def test_a_preloaded_manifest_is_reused_until_the_project_files_change(project) -> None:
    """Preloaded, the same files give the same manifest; a model added after the preload is in the build's
    manifest all the same (parsed again), and never in the preloaded one."""
    preloaded = dbt_runner.prepare(REAL_TARGET)
    assert dbt_runner.prepare(REAL_TARGET) is preloaded
    (project / "models" / f"{PROBE}.sql").write_text("select 1 as probe\n", encoding="utf-8")
    assert compiled(PROBE) == {PROBE: "select 1 as probe"}
    assert f"model.mobile_events.{PROBE}" not in preloaded.nodes
    assert dbt_runner.prepare(REAL_TARGET) is not preloaded


def test_another_targets_manifest_is_not_reused(project) -> None:
    preloaded = dbt_runner.prepare(REAL_TARGET)
    other = dbt_runner.Target(**{**REAL_TARGET.__dict__, "database": "OTHER_DB"})
    assert dbt_runner.prepare(other) is not preloaded


def test_a_failed_preload_leaves_the_tasks_to_parse(project, monkeypatch) -> None:
    """No such connection: the preload warns and returns False, and a build parses the project itself."""
    monkeypatch.delenv("AIRFLOW_CONN_NO_SUCH_CONNECTION", raising=False)
    assert dbt_preload.preload("no_such_connection", "MOBILE_EVENTS") is False
    assert not dbt_runner._manifests
    assert "int_events_validated" in compiled("int_events_validated")


@pytest.mark.parametrize(
    ("argv", "forks"),
    [
        (["airflow", "scheduler"], True),
        (["airflow", "celery", "worker"], True),
        (["airflow", "standalone"], True),
        (["airflow", "api-server"], False),
        (["airflow", "dag-processor"], False),
        (["airflow", "tasks", "test", "dag", "task"], False),
    ],
)
def test_only_processes_that_fork_tasks_preload(argv, forks) -> None:
    assert dbt_preload.forks_tasks(argv) is forks
