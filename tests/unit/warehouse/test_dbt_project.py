"""The dbt project (sql/, docs/transforms.md): the contract macro is current, and a real Snowflake target's
SQL carries none of the emulator's overrides (sql/macros/emulator/)."""

from __future__ import annotations

from mobile_events_elt.warehouse import dbt_contract, dbt_runner, sql_files
from tests.support.dbt import REAL_TARGET, compiled

MARK = "emulator override"


def test_the_contract_macro_is_generated_from_the_contract() -> None:
    current = sql_files.path(dbt_contract.MACRO).read_text(encoding="utf-8")
    assert current == dbt_contract.render(), "regenerate it: make data-model"


def rendered(target: dbt_runner.Target) -> dict[str, str]:
    lines: list[str] = []
    dbt_runner.invoke(target, ["run-operation", "rendered_overrides"], on_log=lines.append)
    return dict(line.split(": ", 1) for line in lines)


def test_a_real_snowflake_target_gets_dbt_snowflakes_sql() -> None:
    """Compiled and rendered for a target that is not the emulator's: the staging model, and the macros the
    emulator overrides, as dbt-snowflake writes them (temporary views, begin/commit, an unqualified merge)."""
    real = rendered(REAL_TARGET)
    assert not [name for name, sql in real.items() if MARK in sql]
    assert real["tmp_relation_type"] == "view"
    assert "begin;" in real["dml"] and "commit;" in real["dml"]
    assert "merge into" in real["merge"] and 'DBT_INTERNAL_SOURCE."USER_ID")' not in real["merge"]
    assert "alter session set abort_detached_query = true" in real["session"]
    assert MARK not in compiled("int_events_validated")["int_events_validated"]


def test_the_emulator_target_gets_the_overrides() -> None:
    emulator = rendered(dbt_runner.Target(**{**REAL_TARGET.__dict__, "name": "emulator"}))
    assert emulator["tmp_relation_type"] == "transient"
    assert all(MARK in emulator[name] for name in ("dml", "merge", "session"))
