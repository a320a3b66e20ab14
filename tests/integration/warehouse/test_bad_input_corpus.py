"""A corpus of bad input, each case with its expected outcome, through the real load and transforms.

Valid records load exactly once; invalid ones are quarantined with a reason a person understands;
unreadable files are recorded with theirs and block nothing; the run never crashes on data. Descriptive
values nobody listed (a new city, OS version, payment method, device, category; quotes, backslashes,
non-ASCII or SQL inside them, 900 KB of text, control characters) and every accepted timestamp form load as
sent, times in UTC, and show up in the drift report (config/event_contract.schema.json says which fields are
open). A value a column cannot hold as sent (a time outside the contract's range, a count of more than 18 digits,
a coordinate that is not a plain number a FLOAT holds) is quarantined, never stored as NULL; the reports'
log stays bounded and escaped whatever the values.

Numbers are judged by their text before any conversion, because the engines convert differently:
Snowflake's TRY_TO_DOUBLE accepts nan, inf and infinity and returns NULL on a conversion error
(https://docs.snowflake.com/en/sql-reference/functions/try_to_double), its TRY_TO_NUMBER returns NULL for a
value past its precision (https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal); the
emulator turns '1e999' into inf and '1_9' into 19, and stores NUMBER as BIGINT. The number cases below hold
on both because none of those conversions is ever reached.
"""

from __future__ import annotations

import gzip
import json
import logging

import pytest

from mobile_events_elt.warehouse import reports
from tests.support.bad_input import BASE, CASES, OPEN_CASES, Case, OpenCase, record
from tests.support.warehouse import new_bucket, prepare, put_ndjson, run_pipeline, settings_for


@pytest.fixture(scope="module")
def corpus_run(aws_endpoint, snowflake_server):
    """One pipeline run over the corpus (all line cases in one file) plus the file-level cases."""
    import uuid

    import snowflake.connector

    database = f"CORPUS_{uuid.uuid4().hex[:8].upper()}"
    conn = snowflake.connector.connect(**snowflake_server, database=database)
    conn.cursor().execute(f"create database if not exists {database}")
    settings = settings_for(database)
    prepare(conn, settings)
    s3, bucket = new_bucket()
    conflicting = record("valid", CITY="Tijuana")  # same EVENT_ID as "valid", other content
    put_ndjson(s3, bucket, [c.line for c in CASES] + ["", "   "], name="a-corpus")
    put_ndjson(s3, bucket, [CASES[0].line, conflicting], name="b-redelivery-and-conflict")
    put_ndjson(s3, bucket, b"", name="c-empty")
    whole = gzip.compress(("\n".join(c.line for c in CASES if c.loads) + "\n").encode())
    put_ndjson(s3, bucket, whole[: len(whole) // 2], name="d-truncated")
    put_ndjson(s3, bucket, gzip.compress(b'{"USER_ID": "\xff\xfe not utf-8"}\n'), name="e-not-utf8")
    report = run_pipeline(conn, s3, bucket, settings)
    yield conn, report, conflicting
    conn.close()


def event_id(line: str) -> str | None:
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError:
        return None
    return parsed.get("EVENT_ID") if isinstance(parsed, dict) else None


def rejected_reasons(conn, line: str) -> list[str]:
    rows = (
        conn.cursor()
        .execute(
            "select reason from raw.rejected_events where raw_text = %(line)s or reject_id = %(key)s",
            {"line": line, "key": event_id(line) or "-"},
        )
        .fetchall()
    )
    return [reason for (reason,) in rows]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_lands_where_expected(corpus_run, case: Case) -> None:
    conn, _, _ = corpus_run
    if case.loads:
        key = json.loads(case.line).get("EVENT_ID")
        if key:
            found = conn.cursor().execute("select count(*) from analytics.orders where order_id = %(k)s", {"k": key})
            assert found.fetchone()[0] == 1
        else:
            found = conn.cursor().execute("select count(*) from analytics.orders where source_event_id is null")
            assert found.fetchone()[0] == 1
    else:
        reasons = rejected_reasons(conn, case.line)
        assert len(reasons) == 1, reasons
        assert case.reason in reasons[0]


def test_conflicting_duplicate_is_quarantined_and_the_first_copy_kept(corpus_run) -> None:
    conn, _, conflicting = corpus_run
    assert BASE["CITY"] != "Tijuana"
    kept = conn.cursor().execute("select count(*) from analytics.orders where order_id = 'corpus-valid'").fetchone()
    assert kept[0] == 1
    users_city = conn.cursor().execute(
        "select count(*) from analytics.users where city = 'Tijuana' and user_id = %(u)s", {"u": BASE["USER_ID"]}
    )
    assert users_city.fetchone()[0] == 0
    rows = (
        conn.cursor()
        .execute("select raw_text from raw.rejected_events where reason like 'conflicting duplicate%'")
        .fetchall()
    )
    assert len(rows) == 1
    assert json.loads(rows[0][0])["CITY"] == json.loads(conflicting)["CITY"] == "Tijuana"


def test_file_level_cases_are_recorded_and_block_nothing(corpus_run) -> None:
    conn, report, _ = corpus_run
    assert report.files_loaded == 4  # the corpus, the redelivery, the empty file, the not-UTF-8 line's file
    assert report.files_failed == 1
    assert {key.rsplit("/", 1)[1] for key in report.failures} == {"d-truncated.gz"}
    failed = conn.cursor().execute("select error from raw.load_audit where status = 'FAILED'").fetchall()
    assert len(failed) == 1 and all(error for (error,) in failed)
    not_utf8 = conn.cursor().execute("select reason from raw.rejected_events where file_name like '%e-not-utf8%'")
    assert [reason for (reason,) in not_utf8.fetchall()] == [
        "not UTF-8: the line holds bytes that are not UTF-8 text (landed as U+FFFD)"
    ]


def test_every_line_is_in_the_tables_or_in_quarantine_once(corpus_run) -> None:
    conn, _, _ = corpus_run
    orders = conn.cursor().execute("select count(*) from analytics.orders").fetchone()[0]
    quarantined = conn.cursor().execute("select count(*) from raw.rejected_events").fetchone()[0]
    expected_loaded = sum(c.loads for c in CASES)
    assert orders == expected_loaded
    assert quarantined == len(CASES) - expected_loaded + 2  # + the conflicting duplicate, the not-UTF-8 line


def scalar_rows(conn, sql: str, params: dict) -> list[tuple]:
    return conn.cursor().execute(sql, params).fetchall()


@pytest.mark.parametrize("case", OPEN_CASES, ids=[c.name for c in OPEN_CASES])
def test_open_world_record_lands_in_every_table_as_sent(corpus_run, case: OpenCase) -> None:
    conn, _, _ = corpus_run
    body = case.body
    key = {"k": body["EVENT_ID"], "u": case.user_id}
    orders = scalar_rows(
        conn,
        "select user_id, order_type, status, payment_method, category, created_at from analytics.orders "
        "where order_id = %(k)s",
        key,
    )
    assert orders == [
        (case.user_id, "PURCHASE", "COMPLETED", body["PAYMENT_METHOD"], body["EVENT_OUT"], case.created_at_utc)
    ]
    events = scalar_rows(
        conn,
        "select event_position, event_name, event_timestamp from analytics.events where order_id = %(k)s "
        "order by event_position",
        key,
    )
    steps = [body[k] for k in ("INITIAL_EVENT", "EVENT_2", "EVENT_3", "EVENT_OUT")]
    assert events == [(i, name, case.created_at_utc) for i, name in enumerate(steps, start=1)]
    users = scalar_rows(
        conn,
        "select os_user, city, device_model, latitude, longitude, first_seen_at, last_seen_at "
        "from analytics.users where user_id = %(u)s",
        key,
    )
    assert users == [
        (
            body["OS_USER"],
            body["CITY"],
            body.get("DEVICE_MODEL"),
            body["LATITUDE"],
            body["LONGITUDE"],
            case.created_at_utc,
            case.created_at_utc,
        )
    ]
    counts = scalar_rows(
        conn,
        "select hour, daily, hourly_purchase_count, daily_purchase_count from analytics.purchase_counts "
        "where user_id = %(u)s",
        key,
    )
    hour = case.created_at_utc.replace(minute=0, second=0, microsecond=0)
    assert counts == [(hour, hour.date(), 1, 1)]


def test_the_drift_report_shows_each_new_value_and_the_run_did_not_fail(corpus_run) -> None:
    conn, _, _ = corpus_run
    drift = {
        (field, value): count
        for field, value, count in conn.cursor().execute("select field, value, count from analytics.value_drift")
    }
    expected = {pair for c in OPEN_CASES for pair in c.drift} | {
        ("CITY", "Atlantis"),
        ("CITY", "x'; drop table raw.events_raw; --"),
        ("OS_USER", "BeOS_5"),
        ("PAYMENT_METHOD", "paypal"),
    }
    assert set(drift) == expected
    assert all(count == 1 for count in drift.values())
    found = reports.run_reports(conn)
    assert found.errors == {}
    # The report cuts each value to 200 characters and says how many more (the analytics table keeps them whole).
    assert {(field, value) for field, value, _, _ in found.rows["value_drift"]} == {
        (field, cut(value)) for field, value in expected
    }


def cut(value: str) -> str:
    return value if len(value) <= 200 else f"{value[:200]}…[{len(value) - 200} more characters]"


def test_the_reports_log_is_bounded_and_escaped(corpus_run, caplog) -> None:
    """900 KB values and control characters in every open field: the run logs 20 drift rows, each value cut to
    a few hundred characters with its control characters escaped, and counts the rest."""
    conn, _, _ = corpus_run
    with caplog.at_level(logging.INFO, logger="mobile_events_elt.warehouse.reports"):
        reports.run_reports(conn)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == reports.LOGGED_ROWS + 1
    assert all(len(line) < 2000 for line in lines), max(map(len, lines))
    assert lines[-1].startswith("report value_drift: ") and lines[-1].endswith(" more rows not logged")
    raw = [char for line in lines for char in line if char in "\x00\n\r\x1b\x07\x85\u202e\u2028\t"]
    assert raw == []
    logged = "\n".join(lines)
    assert "x" * 190 + "…[" in logged  # a 900 KB value, cut, with the count of what was left out
    assert "\\n2024-01-29 [ERROR] forged\\r\\x1b[31mred" in logged  # a control value, escaped on one line


def test_counts_at_the_column_limit_land_whole(corpus_run) -> None:
    conn, _, _ = corpus_run
    rows = conn.cursor().execute(
        "select order_id, producer_hourly_purchase_count, producer_daily_purchase_count from analytics.orders "
        "where order_id in ('corpus-count_18_digits', 'corpus-count_18_digits_zero_padded') order by order_id"
    )
    assert [(key, int(hourly), int(daily)) for key, hourly, daily in rows.fetchall()] == [
        ("corpus-count_18_digits", 10**18 - 1, 1),
        ("corpus-count_18_digits_zero_padded", 1, 10**18 - 1),
    ]


def test_a_reason_quotes_at_most_100_characters_of_a_value(corpus_run) -> None:
    conn, _, _ = corpus_run
    reasons = [reason for (reason,) in conn.cursor().execute("select reason from raw.rejected_events")]
    assert max(map(len, reasons)) < 300


def test_every_loaded_record_stays_in_raw_exactly_as_sent(corpus_run) -> None:
    """Fields nobody asked for (NOTE, CONTEXT) stay in RAW.EVENTS_RAW, untouched, for later models."""
    conn, _, _ = corpus_run
    stored = [json.loads(text) for (text,) in conn.cursor().execute("select to_json(record) from raw.events_raw")]
    missing = [case.name for case in CASES if case.loads and json.loads(case.line) not in stored]
    assert missing == []
