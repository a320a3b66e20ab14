"""The pipeline's Snowflake sessions carry LOCK_TIMEOUT and STATEMENT_TIMEOUT_IN_SECONDS: on Snowflake a
disconnected session's open transaction keeps its locks until it is aborted, and without a lock timeout a
retry waits on them for as long as 12 hours (LOCK_TIMEOUT's default, 43,200 s:
https://docs.snowflake.com/en/sql-reference/parameters#lock-timeout); STATEMENT_TIMEOUT_IN_SECONDS defaults
to 2 days (https://docs.snowflake.com/en/sql-reference/parameters#statement-timeout-in-seconds)."""

from __future__ import annotations

import json

import pytest

from warehouse.snowflake_hook import PipelineSnowflakeHook


def _params(monkeypatch: pytest.MonkeyPatch, extra: dict[str, object]) -> dict[str, object]:
    connection = {"conn_type": "snowflake", "login": "u", "password": "p", "extra": {"account": "a", **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_SESSION_TEST", json.dumps(connection))
    return PipelineSnowflakeHook(snowflake_conn_id="session_test")._get_conn_params()


def test_sessions_get_lock_and_statement_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    parameters = _params(monkeypatch, {})["session_parameters"]
    assert parameters["LOCK_TIMEOUT"] == 120
    assert parameters["STATEMENT_TIMEOUT_IN_SECONDS"] == 3600


def test_a_connections_own_session_parameters_win(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = {"session_parameters": {"LOCK_TIMEOUT": 30, "QUERY_TAG": "elt"}}
    parameters = _params(monkeypatch, extra)["session_parameters"]
    assert {k: v for k, v in parameters.items() if k not in ("AUTOCOMMIT", "ABORT_DETACHED_QUERY")} == {
        "LOCK_TIMEOUT": 30,
        "QUERY_TAG": "elt",
        "STATEMENT_TIMEOUT_IN_SECONDS": 3600,
    }
