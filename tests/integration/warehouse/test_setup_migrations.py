"""Versioned migrations on the Snowflake emulator: each applied once, in order, recorded, data kept."""

from __future__ import annotations

import pytest

from tests.support.warehouse import prepare, scalar, settings_for
from warehouse import setup, sql_files


def recorded(conn) -> list[tuple[int, str, str]]:
    rows = conn.cursor().execute("select version, name, checksum from raw.schema_migrations order by version")
    return [(int(v), n, c) for v, n, c in rows.fetchall()]


def test_each_migration_runs_once_and_a_second_setup_applies_nothing(snowflake_conn, snowflake_database) -> None:
    settings = settings_for(snowflake_database)
    first = setup.run_setup(snowflake_conn, settings)
    known = setup.migrations()
    assert first == [m.relative for m in known]
    assert first[0] == "migrations/V001__baseline.sql"
    assert setup.run_setup(snowflake_conn, settings) == []
    assert recorded(snowflake_conn) == [(m.version, m.name, m.checksum) for m in known]
    assert scalar(snowflake_conn, "select count(*) from raw.schema_migrations where applied_at is null") == 0


def test_a_database_from_the_setup_before_migrations_is_upgraded_and_keeps_its_rows(
    snowflake_conn, snowflake_database
) -> None:
    """Before migrations, setup ran `create ... if not exists` files (today's V001) and recorded nothing."""
    cursor = snowflake_conn.cursor()
    cursor.execute(f"use database {snowflake_database}")
    for schema in ("raw", "analytics"):
        cursor.execute(f"create schema if not exists {schema}")
    for stmt in sql_files.statements("migrations/V001__baseline.sql"):
        cursor.execute(stmt)
    cursor.execute(
        "insert into raw.load_audit (file_name, file_etag, status, rows_loaded) "
        "values ('landing/a.gz', 'e1', 'LOADED', 1)"
    )
    cursor.execute("insert into raw.events_raw (event_key, file_name) values ('k1', 'landing/a.gz')")
    cursor.execute("insert into analytics.orders (order_id, user_id) values ('o1', 'u1')")
    cursor.execute("insert into raw.rejected_events (reject_id, reason) values ('r1', 'malformed JSON')")

    applied = setup.run_setup(snowflake_conn, settings_for(snowflake_database))

    assert applied == [m.relative for m in setup.migrations()]
    assert [row[0] for row in recorded(snowflake_conn)] == [m.version for m in setup.migrations()]
    assert scalar(snowflake_conn, "select count(*) from raw.load_audit where file_name = 'landing/a.gz'") == 1
    assert scalar(snowflake_conn, "select count(*) from raw.events_raw where event_key = 'k1'") == 1
    assert scalar(snowflake_conn, "select count(*) from analytics.orders where order_id = 'o1'") == 1
    assert scalar(snowflake_conn, "select count(*) from raw.rejected_events where reject_id = 'r1'") == 1


def test_a_new_migration_file_is_picked_up_and_applied_once(snowflake_conn, snowflake_database, sql_copy) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    (sql_copy / "migrations" / "V009__probe_table.sql").write_text(
        "create table if not exists raw.probe (n number);\ninsert into raw.probe (n) values (1);\n"
    )
    assert setup.run_setup(snowflake_conn, settings) == ["migrations/V009__probe_table.sql"]
    assert setup.run_setup(snowflake_conn, settings) == []
    assert scalar(snowflake_conn, "select count(*) from raw.probe") == 1
    assert scalar(snowflake_conn, "select name from raw.schema_migrations where version = 9") == "probe_table"


def test_a_migration_edited_after_it_was_applied_is_refused(snowflake_conn, snowflake_database, sql_copy) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    baseline = sql_copy / "migrations" / "V001__baseline.sql"
    baseline.write_text(baseline.read_text() + "\n-- a comment does not change the checksum\n")
    assert setup.run_setup(snowflake_conn, settings) == []
    baseline.write_text(baseline.read_text().replace("value varchar", "value varchar(100)"))
    with pytest.raises(setup.SetupError, match=r"V001__baseline\.sql changed after it was applied"):
        setup.run_setup(snowflake_conn, settings)


def test_a_database_migrated_by_newer_code_is_refused(snowflake_conn, snowflake_database) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    snowflake_conn.cursor().execute(
        "insert into raw.schema_migrations (version, name, checksum, applied_at) values (998, 'future', 'x', sysdate())"
    )
    with pytest.raises(setup.SetupError, match=r"V998__future.*newer version"):
        setup.run_setup(snowflake_conn, settings)


def test_a_failed_migration_is_not_recorded_and_runs_again_from_the_start(
    snowflake_conn, snowflake_database, sql_copy
) -> None:
    """Snowflake commits each DDL statement on its own: a half-applied migration is rerun whole, never skipped."""
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    migration = sql_copy / "migrations" / "V009__probe_table.sql"
    migration.write_text("create table if not exists raw.probe (n number);\ninsert into raw.missing values (1);\n")
    with pytest.raises(setup.SetupError, match=r"V009__probe_table\.sql, statement 2"):
        setup.run_setup(snowflake_conn, settings)
    assert scalar(snowflake_conn, "select count(*) from raw.schema_migrations where version = 9") == 0
    migration.write_text("create table if not exists raw.probe (n number);\ninsert into raw.probe values (1);\n")
    assert setup.run_setup(snowflake_conn, settings) == ["migrations/V009__probe_table.sql"]
    assert scalar(snowflake_conn, "select count(*) from raw.probe") == 1
