"""AUTOCOMMIT is pinned TRUE on the pipeline's sessions: an account or user default of FALSE changes nothing.

Snowflake's AUTOCOMMIT can be set for the account, a user or a session, and the most specific level wins
(https://docs.snowflake.com/en/sql-reference/parameters#autocommit). With FALSE, a statement outside an explicit
transaction opens one, the next DDL commits it, and ending the session rolls back whatever is still open
(https://docs.snowflake.com/en/sql-reference/transactions#autocommit): the last transform batch of every run was
lost that way. The pipeline's hook sends AUTOCOMMIT = TRUE (and the connector's ``autocommit``) at login, a
session value, so no account or user default applies. Here FALSE comes from the connection's own
``session_parameters``, the level the emulator honours.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import snowflake.connector

from mobile_events_elt.warehouse import exclusion, loader, pipeline, transform
from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, settings_for

CONN_ID = "autocommit_off"


@pytest.fixture
def autocommit_off(snowflake_server, snowflake_conn, snowflake_database, monkeypatch) -> dict[str, Any]:
    """An Airflow connection whose session parameters default AUTOCOMMIT to FALSE, on a prepared database."""
    extra = {k: v for k, v in snowflake_server.items() if k not in ("user", "password")}
    extra["session_parameters"] = {"AUTOCOMMIT": False}
    connection = {"conn_type": "snowflake", "login": "local", "password": snowflake_server["password"], "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    monkeypatch.setenv("SNOWFLAKE_DATABASE", snowflake_database)
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    snowflake_conn.cursor().execute("create table if not exists raw.autocommit_probe (n number)")
    return {"conn": snowflake_conn, "settings": settings}


def test_a_session_defaulting_to_autocommit_false_loses_what_it_left_uncommitted(
    autocommit_off, snowflake_server, snowflake_database
) -> None:
    """The hazard, on a plain connection: the insert is gone once the session closes."""
    plain = snowflake.connector.connect(
        **snowflake_server, database=snowflake_database, session_parameters={"AUTOCOMMIT": False}
    )
    plain.cursor().execute(f"insert into {snowflake_database}.raw.autocommit_probe (n) values (1)")
    plain.close()
    assert scalar(autocommit_off["conn"], "select count(*) from raw.autocommit_probe") == 0


def test_the_pipelines_session_commits_each_statement_whatever_the_default(autocommit_off) -> None:
    with pipeline.snowflake(CONN_ID) as conn:
        conn.cursor().execute("insert into raw.autocommit_probe (n) values (1)")
    assert scalar(autocommit_off["conn"], "select count(*) from raw.autocommit_probe") == 1


def test_every_batch_is_there_after_the_connection_closes(autocommit_off, aws_endpoint) -> None:
    """Three files loaded one per COPY and transformed one per batch, on a session whose default is FALSE."""
    s3, bucket = new_bucket()
    lines = seed_lines()
    for part in (lines[:40], lines[40:70], lines[70:]):
        put_ndjson(s3, bucket, part)
    caller = exclusion.Caller.command("autocommit-test")
    with pipeline.exclusive_snowflake(CONN_ID, caller) as conn:
        report = loader.load_new_files(conn, s3, bucket, PREFIX, autocommit_off["settings"], files_per_copy=1)
        assert (report.files_loaded, report.copy_statements) == (3, 3)
        results = transform.run_batch(conn, max_rows=30)  # each batch claims one file
    claimed = {result.step: result.rows for result in results}["claim_batch"]
    assert claimed == 3  # three batches, one file each
    check = autocommit_off["conn"]
    assert scalar(check, "select count(*) from raw.load_audit where status = 'LOADED'") == 3
    assert scalar(check, "select count(*) from raw.load_audit where transformed_at is null") == 0
    assert scalar(check, "select count(*) from analytics.orders") == 100
    assert scalar(check, "select token is null from raw.pipeline_lease") is True
