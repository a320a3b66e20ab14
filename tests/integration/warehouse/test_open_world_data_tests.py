"""The data tests under the event contract, on the whole tables (``transform.test_tables``): closed fields are
tested against it, drift is reported, never failed, freshness looks at loaded files only, and a report that
fails is logged and alerted once while the data tests still decide the run."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from mobile_events_elt.config.warehouse_settings import load_settings
from mobile_events_elt.warehouse import reports, setup, transform


@pytest.fixture
def cursor(snowflake_conn, snowflake_database):
    setup.run_setup(
        snowflake_conn, dataclasses.replace(load_settings(), database=snowflake_database, stage_mode="internal")
    )
    return snowflake_conn.cursor()


def failing_tests(conn) -> dict[str, int]:
    """The data tests that fail on the whole tables, by failing rows (none: all pass)."""
    try:
        transform.test_tables(conn, freshness_hours=24)
    except transform.ChecksFailed as failed:
        return failed.failures
    return {}


def add_order(cursor, order_id: str, order_type: str, status: str, payment_method: str) -> None:
    cursor.execute(
        "insert into analytics.orders (order_id, user_id, order_type, status, payment_method, created_at, loaded_at) "
        "values (%s, 'b0c9dfbd48', %s, %s, %s, '2024-01-29 19:39:47', sysdate())",
        (order_id, order_type, status, payment_method),
    )
    cursor.execute(
        "insert into analytics.users (user_id) select 'b0c9dfbd48' "
        "where not exists (select 1 from analytics.users where user_id = 'b0c9dfbd48')"
    )
    if (order_type, status) == ("PURCHASE", "COMPLETED"):  # its count, as the purchase_counts model derives it
        cursor.execute(
            "insert into analytics.purchase_counts (user_id, hour, daily, hourly_purchase_count, daily_purchase_count) "
            "values ('b0c9dfbd48', '2024-01-29 19:00:00', '2024-01-29', 1, 1)"
        )


def test_accepted_values_look_at_the_closed_fields_only(cursor, snowflake_conn) -> None:
    add_order(cursor, "a", "PURCHASE", "COMPLETED", "Apple Pay")  # a new payment method is not a failure
    assert failing_tests(snowflake_conn) == {}
    add_order(cursor, "b", "PURCHASE", "MAYBE", "Spei")
    add_order(cursor, "c", "REFUND", "COMPLETED", "Spei")
    failures = failing_tests(snowflake_conn)
    assert sorted(failures.values()) == [1, 1]
    assert all(name.startswith("contract_values_orders_") for name in failures)
    assert any("order_type" in name for name in failures) and any("status" in name for name in failures)


def test_freshness_counts_loaded_files_only(cursor, snowflake_conn) -> None:
    """A stream of files that fail to load is not fresh data: only LOADED rows of raw.load_audit count."""
    cursor.execute(
        "insert into raw.load_audit (file_name, status, loaded_at) values "
        "('old.gz', 'LOADED', dateadd('hour', -30, sysdate())), ('broken.gz', 'FAILED', sysdate())"
    )
    assert failing_tests(snowflake_conn) == {"freshness": 1}
    cursor.execute("insert into raw.load_audit (file_name, status, loaded_at) values ('new.gz', 'LOADED', sysdate())")
    assert failing_tests(snowflake_conn) == {}


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
    with caplog.at_level(logging.WARNING, logger="mobile_events_elt.warehouse.reports"):
        found = reports.run_reports(snowflake_conn)
        results = transform.test_tables(snowflake_conn, freshness_hours=24)  # raises ChecksFailed on a failure
    assert {"freshness", "conservation", "purchase_counts_match_orders", "unique_orders_order_id"} <= set(results)
    assert "value_drift" not in results and not [name for name in results if "int_events_validated" in name]
    assert found.errors == {} and [row[:2] for row in found.rows["value_drift"]] == [("CITY", "Oaxaca")]
    assert "report value_drift: CITY, Oaxaca, 2024-01-29 19:00:00, 2" in caplog.text
    assert "BeOS_5" not in caplog.text, "first loaded three days ago: not new"


def observe_year_0(cursor) -> None:
    """A drift row dated year 0 in UTC (what loaded before the contract had a range: 0001-01-01T00:30:00+14:00):
    the report's query runs, but the connector cannot read year 0 back (252005), as on the production account."""
    cursor.execute(
        "insert into raw.drift_observations (field, value, event_key, created_at, loaded_at) "
        "select 'CITY', 'Atlantis', 'year-0', dateadd('year', -2000, '2000-12-31 10:30:00'::timestamp_ntz), sysdate()"
    )


def test_a_failing_report_never_fails_the_run_and_is_logged_and_alerted_once(cursor, snowflake_conn, caplog) -> None:
    observe_year_0(cursor)
    alerts = []

    def run() -> reports.Reports:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="mobile_events_elt.warehouse.reports"):
            found = reports.run_reports(snowflake_conn, alert=lambda report, error: alerts.append((report, error)))
        assert failing_tests(snowflake_conn) == {}  # the data tests still run, and pass
        return found

    first = run()
    assert set(first.errors) == {"value_drift"} and "year 0 is out of range" in first.errors["value_drift"]
    assert first.rows["value_drift"] == []
    assert alerts == [("value_drift", first.errors["value_drift"])]
    assert [r.levelname for r in caplog.records if "year 0" in r.getMessage()] == ["ERROR"]
    # The next runs (every minute for a day) fail the same way: no alert, the error is not logged again.
    for _ in range(2):
        again = run()
        assert again.errors == first.errors
        assert len(alerts) == 1
        assert "year 0" not in caplog.text
        assert "report value_drift still fails with the error logged when it began" in caplog.text
    # The report works again, then breaks again: a new alert.
    cursor.execute("delete from raw.drift_observations where event_key = 'year-0'")
    assert run().errors == {} and "report value_drift works again" in caplog.text
    observe_year_0(cursor)
    assert run().errors == first.errors
    assert len(alerts) == 2


def test_a_report_alert_that_cannot_be_sent_is_tried_again_by_the_next_run(cursor, snowflake_conn) -> None:
    observe_year_0(cursor)
    attempts = []

    def unreachable(report: str, error: str) -> None:
        attempts.append(report)
        raise ConnectionError("the topic cannot be reached")

    reports.run_reports(snowflake_conn, alert=unreachable)
    reports.run_reports(snowflake_conn, alert=unreachable)
    assert attempts == ["value_drift", "value_drift"]
    sent = []
    reports.run_reports(snowflake_conn, alert=lambda report, error: sent.append(report))
    reports.run_reports(snowflake_conn, alert=lambda report, error: sent.append(report))
    assert sent == ["value_drift"]


def test_a_failing_data_test_still_fails_the_run_when_a_report_fails(cursor, snowflake_conn) -> None:
    observe_year_0(cursor)
    add_order(cursor, "b", "PURCHASE", "MAYBE", "Spei")
    assert set(reports.run_reports(snowflake_conn).errors) == {"value_drift"}
    with pytest.raises(transform.ChecksFailed, match=r"contract_values_orders_status\w*: 1 failing rows"):
        transform.test_tables(snowflake_conn, freshness_hours=24)
