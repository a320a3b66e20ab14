"""The dbt project (sql/, docs/transforms.md): the contract macro is current, a real Snowflake target's SQL
carries none of the emulator's overrides (sql/macros/emulator/), and on a real target each mart's write is fenced
by the pipeline's lease inside its own transaction (sql/macros/fenced_transaction.sql)."""

from __future__ import annotations

import pytest

from mobile_events_elt.warehouse import dbt_contract, dbt_runner, sql_files, transform
from tests.support.dbt import REAL_TARGET, compiled, mart_writes

MARK = "emulator override"
EMULATOR = dbt_runner.Target(**{**REAL_TARGET.__dict__, "name": "emulator"})
TOKEN = "0f3c'9a"  # a quote, to see it doubled in the literals


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
    assert real["tmp_table_type"] == "table"
    assert "create or replace temporary view" in " ".join(real["tmp_view"].split())
    assert "begin;" in real["dml"] and "commit;" in real["dml"]
    assert "merge into" in real["merge"] and 'DBT_INTERNAL_SOURCE."USER_ID")' not in real["merge"]
    assert "alter session set abort_detached_query = true" in real["session"]
    assert MARK not in compiled("int_events_validated")["int_events_validated"]


def test_the_emulator_target_gets_the_overrides() -> None:
    emulator = rendered(EMULATOR)
    assert (emulator["tmp_relation_type"], emulator["tmp_table_type"]) == ("view", "transient")
    assert "create or replace view" in " ".join(emulator["tmp_view"].split("*/", 1)[1].split())
    assert all(MARK in emulator[name] for name in ("dml", "merge", "tmp_view"))
    assert emulator["session"] == ""  # no ALTER SESSION there: the pre-hook sends nothing


@pytest.fixture(scope="module")
def fenced_writes() -> dict[str, list[str]]:
    return mart_writes(lease_token=TOKEN, lease_ttl_seconds=600)


def test_each_marts_write_is_fenced_inside_its_own_transaction_on_a_real_target(fenced_writes) -> None:
    """begin, the lease's update (renewing it and locking its row), a statement failing unless this token holds
    the lease, the strategy's DML, commit: a run taken over before its write fails before writing, and a
    takeover waits for the write's transaction. Every strategy the marts use (append, merge, the custom
    merge_purchase_days) goes through it."""
    assert fenced_writes.keys() == set(transform.MODELS)
    literal = "'0f3c''9a'"
    for mart, statements in fenced_writes.items():
        assert len(statements) == 5, (mart, statements)
        begin, update, held, dml, commit = statements
        assert (begin, commit) == ("begin;", "commit;"), mart
        assert update.startswith("update raw.pipeline_lease") and update.endswith(f"token = {literal};"), mart
        assert "dateadd('second', 600, sysdate())" in update
        assert held.startswith("select to_number(iff(count(*) = 1, '1', 'lost the pipeline''s lease'))"), mart
        assert held.endswith(f"lease.token = {literal};"), mart
        assert dml.split(" ", 2)[:2] in (["insert", "into"], ["merge", "into"]), mart
        assert f".{mart} " in dml and "pipeline_lease" not in dml, mart


def test_without_a_lease_a_marts_write_is_dbt_snowflakes_transaction() -> None:
    for mart, statements in mart_writes().items():
        assert [statements[0], statements[-1], len(statements)] == ["begin;", "commit;", 3], mart
        assert "pipeline_lease" not in statements[1], mart


def test_on_the_emulator_a_marts_write_takes_no_transaction_and_the_pre_hook_fences() -> None:
    """The emulator's MERGE fails inside an explicit transaction: its DML runs alone, fenced by the marts'
    pre-hook (sql/macros/fence_lease.sql), which stays on for the emulator."""
    for mart, statements in mart_writes(EMULATOR, lease_token=TOKEN).items():
        assert len(statements) == 1 and "pipeline_lease" not in statements[0], mart
    assert "{{ fence_lease() }}" in sql_files.path("dbt_project.yml").read_text(encoding="utf-8")
