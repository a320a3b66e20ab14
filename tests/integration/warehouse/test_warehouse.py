"""Loading and transforms against the Snowflake and AWS emulators, through the real connector and boto3."""

from __future__ import annotations

import gzip
import json

import pytest

from mobile_events_elt.warehouse import loader, setup, transform
from tests.support.seed import seed_lines
from tests.support.warehouse import new_bucket, prepare, put_ndjson, run_pipeline, scalar, settings_for


@pytest.fixture
def pipeline(aws_endpoint, snowflake_conn, snowflake_database):
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    return snowflake_conn, s3, bucket, settings


def test_seed_events_give_100_orders_98_users_26_purchases(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines())
    report = run_pipeline(conn, s3, bucket, settings)
    assert report.rows_loaded == 100
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    assert scalar(conn, "select count(*) from analytics.users") == 98
    assert scalar(conn, "select count(*) from analytics.orders where order_type = 'PURCHASE'") == 26
    assert scalar(conn, "select sum(hourly_purchase_count) from analytics.purchase_counts") == 26
    assert scalar(conn, "select count(*) from raw.rejected_events") == 0
    # 'Null' strings become NULL: unconverted visits carry no payment method.
    assert scalar(conn, "select count(*) from analytics.orders where payment_method = 'Null'") == 0
    assert scalar(conn, "select count(*) from analytics.orders where payment_method is null") == 74


def test_setup_twice_and_rerun_change_nothing(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines())
    run_pipeline(conn, s3, bucket, settings)
    before = [scalar(conn, f"select count(*) from {t}") for t in ("analytics.orders", "analytics.events")]
    setup.run_setup(conn, settings)
    report = run_pipeline(conn, s3, bucket, settings)
    assert report.files_loaded == 0
    assert [scalar(conn, f"select count(*) from {t}") for t in ("analytics.orders", "analytics.events")] == before


def test_redelivered_file_and_malformed_lines_are_conserved(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    lines = seed_lines()[:10]
    bad = ["{not json", "[1, 2]", '"a string"', json.dumps({"USER_ID": "NOTHEX", "CREATED_AT": "2024-01-01 00:00:00"})]
    put_ndjson(s3, bucket, lines + bad + [""])
    put_ndjson(s3, bucket, lines[:5])  # Firehose's at-least-once: the same records again in a new object
    report = run_pipeline(conn, s3, bucket, settings)
    assert report.files_loaded == 2
    assert scalar(conn, "select count(*) from analytics.orders") == 10
    assert scalar(conn, "select count(*) from raw.rejected_events") == 4
    reasons = {r[0] for r in conn.cursor().execute("select reason from raw.rejected_events").fetchall()}
    assert any(r.startswith("malformed JSON") for r in reasons)
    assert any(r.startswith("not a JSON object") for r in reasons)
    assert any(r.startswith("malformed USER_ID") for r in reasons)


def test_unreadable_file_is_recorded_and_does_not_block_others(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    whole = gzip.compress(("\n".join(seed_lines()) + "\n").encode())
    broken = put_ndjson(s3, bucket, whole[: len(whole) // 2], name="a-truncated")
    put_ndjson(s3, bucket, seed_lines()[:3], name="b-good")
    report = run_pipeline(conn, s3, bucket, settings)
    assert report.files_failed == 1 and broken in report.failures
    assert report.files_loaded == 1
    assert scalar(conn, "select count(*) from analytics.orders") == 3
    assert scalar(conn, "select count(*) from raw.load_audit where status = 'FAILED'") == 1
    # The failure is remembered: the next run does not retry it forever.
    assert loader.load_new_files(conn, s3, bucket, "landing/", settings).files_failed == 0


def test_unknown_closed_values_are_quarantined_and_open_ones_load_as_drift(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    good = json.loads(seed_lines()[0])
    new_city = {**good, "CITY": "Atlantis", "CREATED_AT": "2024-01-29 10:00:00"}
    bad_status = {**good, "STATUS": "MAYBE", "CREATED_AT": "2024-01-29 11:00:00"}
    iso_time = {**good, "CREATED_AT": "2024-01-29T12:00:00"}
    put_ndjson(s3, bucket, [json.dumps(r) for r in (good, new_city, bad_status, iso_time)])
    run_pipeline(conn, s3, bucket, settings)
    reasons = sorted(r[0] for r in conn.cursor().execute("select reason from raw.rejected_events").fetchall())
    assert reasons == ["unknown STATUS: MAYBE"]
    assert scalar(conn, "select count(*) from analytics.orders") == 3
    assert conn.cursor().execute("select field, value, count from analytics.value_drift").fetchall() == [
        ("CITY", "Atlantis", 1)
    ]


def test_late_purchase_corrects_its_day_and_counts_are_derived(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    purchase = {
        **json.loads(seed_lines()[3]),
        "USER_ID": "abcdef0123",
        "HOURLY_PURCHASE_COUNT": 99,
        "DAILY_PURCHASE_COUNT": 99,
    }
    assert purchase["ORDER_TYPE"] == "PURCHASE"
    day_one = [{**purchase, "EVENT_ID": f"p{i}", "CREATED_AT": f"2024-01-29 1{i}:00:00"} for i in range(2)]
    put_ndjson(s3, bucket, [json.dumps(r) for r in day_one])
    run_pipeline(conn, s3, bucket, settings)
    daily = "select max(daily_purchase_count) from analytics.purchase_counts where daily = '2024-01-29'"
    assert scalar(conn, daily) == 2
    # Two days later, a purchase from the 29th arrives: that day's counts are recomputed.
    late = {**purchase, "EVENT_ID": "late", "CREATED_AT": "2024-01-29 10:30:00"}
    put_ndjson(s3, bucket, [json.dumps(late)])
    run_pipeline(conn, s3, bucket, settings)
    assert scalar(conn, daily) == 3
    hour_10 = "select hourly_purchase_count from analytics.purchase_counts where hour = '2024-01-29 10:00:00'"
    assert scalar(conn, hour_10) == 2
    # The producer's own (wrong) counts are kept for comparison, not used.
    assert scalar(conn, "select max(producer_daily_purchase_count) from analytics.orders") == 99


def test_each_run_processes_only_new_files(pipeline) -> None:
    from mobile_events_elt.warehouse import transform

    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines()[:50])
    run_pipeline(conn, s3, bucket, settings)
    put_ndjson(s3, bucket, seed_lines()[50:60])
    loader.load_new_files(conn, s3, bucket, "landing/", settings)
    changed = transform.run_all(conn)
    assert scalar(conn, "select count(*) from raw.events_validated") == 10
    assert changed["orders"] == 10
    assert scalar(conn, "select count(*) from analytics.orders") == 60


def test_replay_reloads_files_without_double_counting(pipeline) -> None:
    from datetime import UTC, datetime, timedelta

    from mobile_events_elt.warehouse import maintenance

    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines())
    run_pipeline(conn, s3, bucket, settings)
    now = datetime.now(UTC)
    replayed = maintenance.replay(conn, s3, bucket, "landing/", now - timedelta(hours=1), now + timedelta(hours=1))
    assert len(replayed) == 1
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    report = run_pipeline(conn, s3, bucket, settings)
    assert report.files_loaded == 1
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    assert scalar(conn, "select sum(hourly_purchase_count) from analytics.purchase_counts") == 26


def test_full_rebuild_gives_the_same_tables(pipeline) -> None:
    from mobile_events_elt.warehouse import maintenance, transform

    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines()[:60])
    run_pipeline(conn, s3, bucket, settings)
    put_ndjson(s3, bucket, seed_lines()[60:])
    run_pipeline(conn, s3, bucket, settings)
    snapshot = "select count(*), count(distinct user_id), min(created_at), max(created_at) from analytics.orders"
    before = conn.cursor().execute(snapshot).fetchone()
    maintenance.rebuild(conn)
    assert scalar(conn, "select count(*) from analytics.orders") == 0
    transform.run_all(conn)
    assert conn.cursor().execute(snapshot).fetchone() == before
    assert scalar(conn, "select count(*) from analytics.users") == 98


def test_a_failed_data_test_names_itself_and_its_count(pipeline) -> None:
    conn, s3, bucket, settings = pipeline
    put_ndjson(s3, bucket, seed_lines()[:5])
    run_pipeline(conn, s3, bucket, settings)
    conn.cursor().execute("update raw.load_audit set loaded_at = dateadd('day', -3, sysdate())")
    conn.cursor().execute("insert into analytics.users (user_id) select user_id from analytics.users limit 2")
    with pytest.raises(transform.ChecksFailed) as failed:
        transform.test_tables(conn, freshness_hours=24)
    assert failed.value.failures == {"freshness": 1, "unique_users_user_id": 2}
    assert "freshness: 1 failing rows" in str(failed.value)
