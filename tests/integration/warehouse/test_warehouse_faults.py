"""Connection faults in the middle of a load and of a transform: the step rolls back, the retry finishes.

The emulators cannot drop a connection on cue, so a thin wrapper around the real connector connection
fails the Nth statement with the connector's own OperationalError (what a dropped connection raises),
then the same work is retried on a fresh connection, as an Airflow task retry would.
"""

from __future__ import annotations

from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import OperationalError, ProgrammingError

from mobile_events_elt.warehouse import loader, sql_files, transform
from mobile_events_elt.warehouse.pipeline import use_database
from tests.support.seed import seed_lines
from tests.support.snowflake_faults import DroppingConnection, drop_dbt_session_at
from tests.support.warehouse import new_bucket, prepare, put_ndjson, scalar, settings_for


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database):
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    put_ndjson(s3, bucket, seed_lines()[60:], name="b")

    def fresh() -> Any:
        """A new session, set up as the pipeline sets up its own (database and schema current)."""
        new = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
        use_database(new, snowflake_database)
        return new

    return snowflake_conn, s3, bucket, settings, fresh


@pytest.mark.parametrize(
    ("when", "fail_at"),
    [
        ("copy into", 2),  # the second file's COPY
        ("insert into raw.events_raw", 2),  # after the second file's COPY, before its rows
        ("insert into raw.load_audit", 2),  # the second file's audit row: its rows were already inserted
    ],
)
def test_connection_dropped_mid_load_leaves_no_partial_file(world, when: str, fail_at: int) -> None:
    """One file per COPY: each file is its own transaction."""
    conn, s3, bucket, settings, fresh = world
    with pytest.raises(OperationalError):
        loader.load_new_files(
            DroppingConnection(fresh(), fail_at, when), s3, bucket, "landing/", settings, files_per_copy=1
        )
    # The first file is in, whole; nothing of the second.
    assert scalar(conn, "select count(*) from raw.load_audit") == 1
    assert scalar(conn, "select count(*) from raw.events_raw") == 60
    # The retry loads the second file once.
    report = loader.load_new_files(fresh(), s3, bucket, "landing/", settings)
    assert report.files_loaded == 1
    assert scalar(conn, "select count(*) from raw.events_raw") == 100


@pytest.mark.parametrize("when", ["copy into", "insert into raw.events_raw", "insert into raw.load_audit"])
def test_connection_dropped_mid_batch_leaves_no_file_of_the_batch(world, when: str) -> None:
    """Both files in one COPY and one transaction: a drop anywhere in it leaves nothing; the retry loads both once."""
    conn, s3, bucket, settings, fresh = world
    with pytest.raises(OperationalError):
        loader.load_new_files(DroppingConnection(fresh(), 1, when), s3, bucket, "landing/", settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    assert scalar(conn, "select count(*) from raw.events_raw") == 0
    report = loader.load_new_files(fresh(), s3, bucket, "landing/", settings)
    assert (report.files_loaded, report.copy_statements) == (2, 1)
    assert scalar(conn, "select count(*) from raw.events_raw") == 100


@pytest.mark.parametrize("failing_step", ["orders", "users", "update raw"])
def test_connection_dropped_mid_transform_then_retry_gives_the_same_tables(world, monkeypatch, failing_step) -> None:
    conn, s3, bucket, settings, fresh = world
    loader.load_new_files(fresh(), s3, bucket, "landing/", settings)
    with pytest.raises(OperationalError):
        if failing_step == "update raw":  # the finishing update (the second "update raw"; the first claims)
            transform.run_all(DroppingConnection(fresh(), 2, failing_step))
        else:  # dbt's session, at that model
            drop_dbt_session_at(monkeypatch, failing_step)
            transform.run_all(fresh())
    transform.run_all(fresh())
    transform.test_tables(conn, freshness_hours=24)
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    assert scalar(conn, "select count(*) from analytics.users") == 98
    assert scalar(conn, "select sum(hourly_purchase_count) from analytics.purchase_counts") == 26
    assert scalar(conn, "select count(*) from raw.load_audit where transformed_at is null") == 0


def test_a_missing_file_format_fails_the_load_without_parking_good_files_as_failed(world) -> None:
    """A setup fault is not a data fault: the files stay new, and load once the setup is back."""
    conn, s3, bucket, settings, fresh = world
    # fakesnow has no DROP FILE FORMAT; removing it from the emulator's catalog has the same effect.
    conn.cursor().execute("delete from _fs_global._fs_information_schema._fs_file_formats")
    with pytest.raises(ProgrammingError, match="does not exist or not authorized"):
        loader.load_new_files(fresh(), s3, bucket, "landing/", settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    # The operator restores it (the migration that creates it, run again by hand).
    sql_files.run_file(conn.cursor(), "migrations/V011__landing_lines_as_text.sql")
    assert loader.load_new_files(fresh(), s3, bucket, "landing/", settings).files_loaded == 2
    assert scalar(conn, "select count(*) from raw.events_raw") == 100
