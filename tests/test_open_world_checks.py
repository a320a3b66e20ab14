"""The checks under the event contract: closed fields are checked against it, drift is reported, never failed,
and freshness looks at loaded files only."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from warehouse import checks, setup, sql_files
from warehouse.settings import load_settings


@pytest.fixture
def cursor(snowflake_conn, snowflake_database):
    setup.run_setup(
        snowflake_conn, dataclasses.replace(load_settings(), database=snowflake_database, stage_mode="internal")
    )
    return snowflake_conn.cursor()


def check(cursor, name: str) -> int:
    return int(sql_files.run_file(cursor, f"checks/{name}.sql", checks.check_params(24))[0][0])


def add_order(cursor, order_id: str, order_type: str, status: str, payment_method: str) -> None:
    cursor.execute(
        "insert into analytics.orders (order_id, user_id, order_type, status, payment_method, created_at, loaded_at) "
        "values (%s, 'b0c9dfbd48', %s, %s, %s, '2024-01-29 19:39:47', sysdate())",
        (order_id, order_type, status, payment_method),
    )


def test_accepted_values_look_at_the_closed_fields_only(cursor) -> None:
    add_order(cursor, "a", "PURCHASE", "COMPLETED", "Apple Pay")  # a new payment method is not a failure
    assert check(cursor, "orders_accepted_values") == 0
    add_order(cursor, "b", "PURCHASE", "MAYBE", "Spei")
    add_order(cursor, "c", "REFUND", "COMPLETED", "Spei")
    assert check(cursor, "orders_accepted_values") == 2


def test_freshness_counts_loaded_files_only(cursor) -> None:
    """A stream of files that fail to load is not fresh data: only LOADED rows of raw.load_audit count."""
    cursor.execute(
        "insert into raw.load_audit (file_name, status, loaded_at) values "
        "('old.gz', 'LOADED', dateadd('hour', -30, sysdate())), ('broken.gz', 'FAILED', sysdate())"
    )
    assert check(cursor, "freshness") == 1
    cursor.execute("insert into raw.load_audit (file_name, status, loaded_at) values ('new.gz', 'LOADED', sysdate())")
    assert check(cursor, "freshness") == 0


def test_drift_is_reported_and_does_not_fail_the_checks(cursor, snowflake_conn, caplog) -> None:
    cursor.execute(
        "insert into raw.drift_observations (field, value, event_key, created_at, loaded_at) values "
        "('CITY', 'Oaxaca', 'k1', '2024-01-29 19:00:00', sysdate()), "
        "('CITY', 'Oaxaca', 'k2', '2024-01-29 20:00:00', sysdate()), "
        "('CITY', 'Puebla', 'k3', '2024-01-29 20:00:00', sysdate()), "
        "('OS_USER', 'BeOS_5', 'k4', '2024-01-29 20:00:00', dateadd('day', -3, sysdate()))"
    )
    drift = cursor.execute("select field, value, count from analytics.value_drift order by field").fetchall()
    assert drift == [("CITY", "Oaxaca", 2), ("OS_USER", "BeOS_5", 1)]  # Puebla is known: not drift
    with caplog.at_level(logging.WARNING, logger="warehouse.checks"):
        results = checks.run_checks(snowflake_conn)  # raises ChecksFailed if any check failed
    assert set(results) == set(checks.CHECKS) and "value_drift" not in results
    assert "report value_drift: CITY, Oaxaca, 2024-01-29 19:00:00, 2" in caplog.text
    assert "BeOS_5" not in caplog.text, "first loaded three days ago: not new"
