"""The Snowflake hook's session parameters and query tag, and who may take the pipeline's lease over."""

from __future__ import annotations

from tests.support.exclusion import RUN, airflow_connection, elt_try
from warehouse import exclusion
from warehouse.snowflake_hook import PipelineSnowflakeHook


def test_the_hook_pins_autocommit_and_abort_detached_query_and_sends_the_runs_tag(monkeypatch) -> None:
    own = {"AUTOCOMMIT": False, "abort_detached_query": False, "QUERY_TAG": "theirs", "LOCK_TIMEOUT": 30}
    airflow_connection(monkeypatch, "pinned", {"account": "a"}, session_parameters=own)
    caller = elt_try(2)
    params = PipelineSnowflakeHook(snowflake_conn_id="pinned", query_tag=caller.query_tag)._get_conn_params()
    assert params["autocommit"] is True
    assert params["session_parameters"] == {
        "AUTOCOMMIT": True,
        "ABORT_DETACHED_QUERY": True,
        "QUERY_TAG": f"mobile_events_elt/{RUN}/load_transform_check/try-2",
        "LOCK_TIMEOUT": 30,  # the connection's own value, as before
        "STATEMENT_TIMEOUT_IN_SECONDS": 3600,
    }
    untagged = PipelineSnowflakeHook(snowflake_conn_id="pinned")._get_conn_params()["session_parameters"]
    assert untagged["QUERY_TAG"] == "theirs"  # no caller: the connection's own tag stays


def test_a_tag_is_cut_to_snowflakes_limit_and_keeps_its_try() -> None:
    caller = elt_try(3, run="r" * 3000)
    assert len(caller.query_tag) <= exclusion.QUERY_TAG_LIMIT
    assert caller.query_tag.endswith("/try-3") and caller.query_tag.startswith(caller.run_key)
    assert exclusion.Caller.command("transform").query_tag.startswith("cli/transform/")


def test_only_the_same_task_in_a_later_try_or_another_run_takes_the_lease_over() -> None:
    state = exclusion.LeaseState(
        holder="x",
        task_key="mobile_events_elt/load_transform_check",
        run_key=elt_try(1).run_key,
        attempt=1,
        acquired_at=None,
        expires_at=None,
        is_held=True,
        is_expired=False,
        schema_version=41,
    )
    assert state.taken_over_by(elt_try(2)) and state.taken_over_by(elt_try(1, run="another"))
    assert not state.taken_over_by(elt_try(1)) and not state.taken_over_by(exclusion.Caller.command("transform"))
    other_task = exclusion.Caller.task("mobile_events_replay", RUN, "forget_files", 2)
    assert not state.taken_over_by(other_task)
    assert state.blocks(other_task) and not state.blocks(elt_try(2))
