"""The dbt preload (warehouse/dbt_preload.py): a manifest parsed before is reused only for the same project files
and target name (another database gets a retargeted copy); a stale or missing one leaves the build to parse the
project as it would without the preload."""

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
    other = dbt_runner.Target(**{**REAL_TARGET.__dict__, "name": "emulator"})
    assert dbt_runner.prepare(other) is not preloaded


def nodes(manifest) -> dict[str, dict]:
    """Every model's, test's and source's parsed fields but the time of the parse."""
    return {
        uid: {k: v for k, v in node.to_dict().items() if k != "created_at"}
        for uid, node in [*manifest.nodes.items(), *manifest.sources.items()]
    }


def test_a_manifest_parsed_for_one_database_serves_another_as_its_own_parse_would(project, monkeypatch) -> None:
    """Each test's database, or a second pipeline's, costs no parse: the build's copy of the manifest names the
    build's database wherever the parse named its own, and is then what a parse for that database gives."""
    preloaded = dbt_runner.prepare(REAL_TARGET)
    other = dbt_runner.Target(**{**REAL_TARGET.__dict__, "database": "OTHER_DB"})
    assert dbt_runner.prepare(other) is preloaded
    retargeted = dbt_runner._for_database(preloaded.deepcopy(), "OTHER_DB")
    assert nodes(preloaded)["model.mobile_events.orders"]["database"] == REAL_TARGET.database
    monkeypatch.setattr(dbt_runner, "_manifests", {})
    parsed = dbt_runner.prepare(other)
    assert parsed is not preloaded
    assert nodes(retargeted) == nodes(parsed)
    assert nodes(retargeted)["model.mobile_events.orders"]["relation_name"] == "OTHER_DB.analytics.orders"
    assert retargeted.flat_graph["nodes"]["model.mobile_events.orders"]["database"] == "OTHER_DB"


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
