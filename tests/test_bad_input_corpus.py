"""A corpus of bad input, each case with its expected outcome, through the real load and transforms.

Valid records load exactly once; invalid ones are quarantined with a reason a person understands;
unreadable files are recorded with theirs and block nothing; the run never crashes on data.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

import pytest

from tests.seed import seed_records
from tests.warehouse_helpers import new_bucket, prepare, put_ndjson, run_pipeline, settings_for

BASE = {**seed_records()[3], "CREATED_AT": "2024-01-29 19:39:47"}  # a completed purchase


def record(case: str, **changes: object) -> str:
    body = {**BASE, "EVENT_ID": f"corpus-{case}", **changes}
    return json.dumps({k: v for k, v in body.items() if v is not DROP}, ensure_ascii=False)


DROP = object()


@dataclass(frozen=True)
class Case:
    name: str
    line: str
    loads: bool  # True: in analytics.orders once; False: quarantined once
    reason: str = ""  # what the quarantine reason must contain


CASES = [
    Case("valid", record("valid"), True),
    Case("iso_timestamp", record("iso_timestamp", CREATED_AT="2024-01-29T19:39:47"), True),
    Case("null_strings", record("null_strings", PAYMENT_METHOD="Null", EVENT_3="Null"), True),
    Case("json_nulls", record("json_nulls", PAYMENT_METHOD=None, EVENT_3=None), True),
    Case("sql_in_extra_field", record("sql_in_extra_field", NOTE="'); drop table analytics.orders; --"), True),
    Case("non_ascii_extra", record("non_ascii_extra", NOTE="Ciudad de México ✓ 東京 🚀"), True),
    Case("nested_extra", record("nested_extra", CONTEXT={"app": {"version": "1.2.3", "flags": [1, 2]}}), True),
    Case("field_100kb", record("field_100kb", NOTE="x" * 100_000), True),
    Case("count_as_text", record("count_as_text", HOURLY_PURCHASE_COUNT="2"), True),
    Case("no_event_id", json.dumps({**BASE, "CITY": "Puebla", "CREATED_AT": "2024-01-29 08:00:00"}), True),
    Case("malformed_json", '{"USER_ID": "b0c9dfbd48", "CITY": ', False, "malformed JSON"),
    Case("json_array", json.dumps([BASE]), False, "not a JSON object"),
    Case("json_number", "12345", False, "not a JSON object"),
    Case("json_string", json.dumps("a string"), False, "not a JSON object"),
    Case("json_null", "null", False, "not a JSON object"),
    Case("missing_user_id", record("missing_user_id", USER_ID=DROP), False, "missing USER_ID"),
    Case("empty_user_id", record("empty_user_id", USER_ID=""), False, "malformed USER_ID"),
    Case("null_user_id", record("null_user_id", USER_ID=None), False, "missing USER_ID"),
    Case("numeric_user_id", record("numeric_user_id", USER_ID=1234567890), False, "malformed USER_ID"),
    Case("uppercase_user_id", record("uppercase_user_id", USER_ID="B0C9DFBD48"), False, "malformed USER_ID"),
    Case("missing_created_at", record("missing_created_at", CREATED_AT=DROP), False, "missing CREATED_AT"),
    Case("garbage_created_at", record("garbage_created_at", CREATED_AT="yesterday"), False, "unparseable CREATED_AT"),
    Case("impossible_date", record("impossible_date", CREATED_AT="2024-02-30 10:00:00"), False, "unparseable"),
    Case("far_future", record("far_future", CREATED_AT="2999-01-01 00:00:00"), False, "in the future"),
    Case("latitude_text", record("latitude_text", LATITUDE="north"), False, "non-numeric LATITUDE"),
    Case("missing_longitude", record("missing_longitude", LONGITUDE=DROP), False, "LATITUDE/LONGITUDE"),
    Case("latitude_out_of_range", record("latitude_out_of_range", LATITUDE=123.4), False, "out of range"),
    Case("longitude_out_of_range", record("longitude_out_of_range", LONGITUDE=-200.0), False, "out of range"),
    Case("unknown_city", record("unknown_city", CITY="Atlantis"), False, "unknown CITY: Atlantis"),
    Case("sql_as_city", record("sql_as_city", CITY="x'; drop table raw.events_raw; --"), False, "unknown CITY"),
    Case("unknown_os", record("unknown_os", OS_USER="BeOS_5"), False, "unknown OS_USER"),
    Case("unknown_status", record("unknown_status", STATUS="MAYBE"), False, "unknown STATUS"),
    Case("unknown_order_type", record("unknown_order_type", ORDER_TYPE="REFUND"), False, "unknown ORDER_TYPE"),
    Case("missing_order_type", record("missing_order_type", ORDER_TYPE=DROP), False, "missing ORDER_TYPE"),
    Case("lowercase_payment", record("lowercase_payment", PAYMENT_METHOD="paypal"), False, "unknown PAYMENT_METHOD"),
    Case("negative_count", record("negative_count", DAILY_PURCHASE_COUNT=-1), False, "negative purchase count"),
    Case("empty_object", "{}", False, "missing USER_ID"),
]


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


def test_corpus_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30


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
    assert report.files_loaded == 3  # the corpus, the redelivery, the empty file
    assert report.files_failed == 2
    assert {key.rsplit("/", 1)[1] for key in report.failures} == {"d-truncated.gz", "e-not-utf8.gz"}
    failed = conn.cursor().execute("select error from raw.load_audit where status = 'FAILED'").fetchall()
    assert len(failed) == 2 and all(error for (error,) in failed)


def test_every_line_is_in_the_tables_or_in_quarantine_once(corpus_run) -> None:
    conn, _, _ = corpus_run
    orders = conn.cursor().execute("select count(*) from analytics.orders").fetchone()[0]
    quarantined = conn.cursor().execute("select count(*) from raw.rejected_events").fetchone()[0]
    expected_loaded = sum(c.loads for c in CASES)
    assert orders == expected_loaded
    assert quarantined == len(CASES) - expected_loaded + 1  # + the conflicting duplicate
