"""Work set by the new batch, not by what is kept (docs/bounded-work.md), on the emulators: the transform queue,
each file's counts from the run's own rows, the dedup horizon, and data tests bounded to what a batch wrote.

The emulator does not prune, so what is bounded is shown by what a statement can see: rows planted outside
its bounds (older than the dedup horizon, or in files the run did not transform) change nothing, by design,
while the same fault inside them is caught.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import OperationalError

from mobile_events_elt.warehouse import loader, maintenance, setup, sql_files, transform
from mobile_events_elt.warehouse.pipeline import use_database
from tests.support.bad_input import CASES
from tests.support.seed import seed_lines
from tests.support.snowflake_faults import drop_dbt_session_at
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, settings_for

V040 = "migrations/V040__transform_queue.sql"
# Every table whose rows carry the time the models and data tests bound them by.
TIMES = {
    "raw.events_raw": ["loaded_at"],
    "raw.load_audit": ["loaded_at", "transformed_at"],
    "raw.rejected_events": ["rejected_at"],
    "raw.drift_observations": ["loaded_at"],
    "analytics.orders": ["loaded_at"],
    "analytics.events": ["loaded_at"],
}


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database):
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()

    def fresh() -> Any:
        """A new session, set up as the pipeline sets up its own."""
        new = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
        use_database(new, snowflake_database)
        return new

    return snowflake_conn, s3, bucket, settings, fresh


def load(world: Any, error_prefix: str | None = None) -> loader.LoadReport:
    conn, s3, bucket, settings, _ = world
    return loader.load_new_files(conn, s3, bucket, PREFIX, settings, error_prefix=error_prefix)


def rows(conn: Any, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return conn.cursor().execute(sql, params).fetchall()


def age(conn: Any, days: int) -> None:
    """Move every row's times ``days`` into the past, as if it had all loaded then."""
    for table, columns in TIMES.items():
        assigned = ", ".join(f"{c} = dateadd('day', -{days}, {c})" for c in columns)
        conn.cursor().execute(f"update {table} set {assigned}")  # nosec B608: the constants above


def order_counts(conn: Any) -> tuple[int, int, int]:
    return (
        scalar(conn, "select count(*) from analytics.orders"),
        scalar(conn, "select count(*) from analytics.users"),
        scalar(conn, "select sum(hourly_purchase_count) from analytics.purchase_counts"),
    )


# --- the queue -------------------------------------------------------------------------------------------


def test_a_loaded_file_is_queued_once_claimed_finished_and_taken_off_the_queue(world) -> None:
    conn, s3, bucket, _, _ = world
    key = put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    load(world)
    ((load_id, queued_rows, batch, landed_at, loaded_at),) = rows(
        conn, "select load_id, rows_loaded, transform_batch_id, landed_at, loaded_at from raw.transform_queue"
    )
    assert (queued_rows, batch) == (60, None)
    assert rows(conn, "select load_id, loaded_at from raw.load_audit") == [(load_id, loaded_at)]
    first, last = rows(conn, "select min(loaded_at), max(loaded_at) from raw.events_raw")[0]
    assert landed_at <= first <= last <= loaded_at, "the window the transform reads the file's raw rows in"
    assert load(world).files_loaded == 0
    assert scalar(conn, "select count(*) from raw.transform_queue") == 1

    queued_after: dict[str, list[tuple[Any, ...]]] = {}
    bounds: dict[str, Any] = {}

    def look(step: transform.StepResult) -> None:
        queued_after[step.step] = rows(conn, "select file_name, transform_batch_id from raw.transform_queue")
        if step.step == "claim_batch":
            bounds.update(transform.batch_bounds(conn, "b1"))

    done = transform.run_batch(conn, batch_id="b1", on_step=look)
    assert queued_after["claim_batch"] == queued_after["drift_observations"] == [(key, "b1")]
    assert queued_after["finish_batch"] == []
    assert rows(conn, "select transform_batch_id, transformed_at is not null from raw.load_audit") == [("b1", True)]
    assert scalar(conn, "select count(*) from analytics.orders") == 60
    assert (bounds["batch_landed_from"], bounds["dedup_since"]) == (landed_at, landed_at - timedelta(days=7))
    assert bounds["left_queued"] == 0 and done.tests and set(done.tests.values()) == {0}

    steps: list[transform.StepResult] = []
    idle = transform.run_batch(conn, on_step=steps.append)
    assert [s.step for s in steps] == ["claim_batch"], "a claim of nothing runs no model"
    assert idle.tests == {}, "nor any test"


def test_claims_are_slices_of_max_rows_oldest_file_first(world) -> None:
    conn, s3, bucket, _, _ = world
    older = put_ndjson(s3, bucket, seed_lines()[:60], name="b-older")
    load(world)
    newer = put_ndjson(s3, bucket, seed_lines()[60:], name="a-newer")  # sorts first by name, loaded later
    load(world)
    claimed: list[list[tuple[Any, ...]]] = []

    def look(step: transform.StepResult) -> None:
        if step.step == "claim_batch":
            claimed.append(rows(conn, "select file_name from raw.transform_queue where transform_batch_id is not null"))

    done = transform.run_batch(conn, on_step=look, max_rows=50)
    assert claimed == [[(older,)], [(newer,)]], "the second batch took the last file: no claim after it"
    assert done.tests and set(done.tests.values()) == {0}
    assert order_counts(conn) == (100, 98, 26)


def test_a_failed_batch_leaves_its_files_queued_and_the_next_run_finishes_them(world, monkeypatch) -> None:
    conn, s3, bucket, _, fresh = world
    put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    put_ndjson(s3, bucket, seed_lines()[60:], name="b")
    load(world)
    drop_dbt_session_at(monkeypatch, "users")
    with pytest.raises(OperationalError):
        transform.run_batch(fresh(), batch_id="failed")
    assert rows(conn, "select count(*), min(transform_batch_id) from raw.transform_queue") == [(2, "failed")]
    assert scalar(conn, "select count(*) from raw.load_audit where transformed_at is not null") == 0

    transform.run_batch(fresh(), batch_id="retry")
    assert scalar(conn, "select count(*) from raw.transform_queue") == 0
    assert rows(conn, "select distinct transform_batch_id from raw.load_audit") == [("retry",)]
    assert order_counts(conn) == (100, 98, 26)


def test_migrating_a_database_from_before_the_queue_queues_its_untransformed_files(world) -> None:
    """A database at V031: one file transformed, one loaded and waiting, one that failed to load. V040 queues
    the waiting one only, gives the existing steps their order's load time, and can run again."""
    conn, s3, bucket, settings, _ = world
    put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    load(world)
    transform.run_batch(conn)
    waiting = put_ndjson(s3, bucket, seed_lines()[60:], name="b")
    whole = gzip.compress(("\n".join(seed_lines()) + "\n").encode())
    put_ndjson(s3, bucket, whole[: len(whole) // 2], name="c-truncated")
    assert (load(world).files_loaded, scalar(conn, "select count(*) from raw.load_audit")) == (1, 3)
    for undo in (
        "drop table raw.transform_queue",
        "drop table raw.replayed_files",
        "update analytics.events set loaded_at = null",
        "delete from raw.schema_migrations where version = 40",
    ):
        conn.cursor().execute(undo)

    assert setup.run_setup(conn, settings) == [V040]

    ((queued, queued_rows, landed_at, loaded_at),) = rows(
        conn, "select file_name, rows_loaded, landed_at, loaded_at from raw.transform_queue"
    )
    assert (queued, queued_rows) == (waiting, 40)
    assert loaded_at == scalar(conn, f"select loaded_at from raw.load_audit where file_name = '{waiting}'")
    assert landed_at == scalar(conn, f"select min(loaded_at) from raw.events_raw where file_name = '{waiting}'")
    mismatched = (
        "select count(*) from analytics.events as events left join analytics.orders as orders "
        "on events.order_id = orders.order_id where events.loaded_at is distinct from orders.loaded_at"
    )
    assert (scalar(conn, "select count(*) from analytics.events") > 0, scalar(conn, mismatched)) == (True, 0)
    for statement in sql_files.statements(V040):  # a migration that failed half-way runs again from the start
        conn.cursor().execute(statement)
    assert scalar(conn, "select count(*) from raw.transform_queue") == 1

    transform.run_batch(conn)
    assert order_counts(conn) == (100, 98, 26)
    assert scalar(conn, "select count(*) from raw.transform_queue") == 0


# --- each file's counts ----------------------------------------------------------------------------------

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/mobile-events"


def error_record(sequence: int, data: bytes) -> str:
    """One line of Firehose's error output, as Firehose documents it."""
    return json.dumps(
        {
            "attemptsMade": 1,
            "arrivalTimestamp": 1706557187000 + sequence,
            "errorCode": "Lambda.ProcessingFailedStatus",
            "errorMessage": "the transformation Lambda returned ProcessingFailed",
            "attemptEndingTimestamp": 1706557188000,
            "rawData": base64.b64encode(data).decode(),
            "kinesisMetadata": {
                "kinesisStreamARN": ARN,
                "shardId": "shardId-000000000000",
                "sequenceNumber": str(sequence),
                "approximateArrivalTimestamp": 1706557187000 + sequence,
            },
        }
    )


def put_errors(s3: Any, bucket: str, name: str, lines: list[str]) -> None:
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    s3.put_object(Bucket=bucket, Key=f"errors/manual/{name}.gz", Body=body)


def test_each_files_counts_are_the_rows_it_added_to_the_raw_tables(world) -> None:
    """Counted from the run's own rows, each file's rows_loaded and rows_rejected are what filtering the raw
    tables by its load id gives: the bad-input corpus, a redelivery within the batch and in a later run, an
    empty file and Firehose's error output (a record or a line quarantined before is not counted again)."""
    conn, s3, bucket, _, _ = world
    malformed = next(case.line for case in CASES if case.name == "malformed_json")
    put_ndjson(s3, bucket, [case.line for case in CASES] + ["", "   "], name="a-corpus")
    put_ndjson(s3, bucket, [CASES[0].line, malformed, "not json, new in b"], name="b-mixed")
    put_ndjson(s3, bucket, b"", name="c-empty")
    put_errors(s3, bucket, "e1", [error_record(n, f"record {n}".encode()) for n in (1, 2, 3)] + ["not a record"])
    first = load(world, error_prefix="errors/")
    again = [malformed, "[1, 2, 3]", json.dumps({**json.loads(CASES[0].line), "EVENT_ID": "d"})]
    put_ndjson(s3, bucket, again, name="d-again")
    put_errors(s3, bucket, "e2", [error_record(n, f"record {n}".encode()) for n in (1, 2, 4)])
    second = load(world, error_prefix="errors/")

    recorded = rows(
        conn,
        "select file_name, load_id, rows_loaded, rows_rejected from raw.load_audit where status = 'LOADED' "
        "order by file_name",
    )
    assert len(recorded) == 6
    for file_name, load_id, loaded, rejected in recorded:
        in_raw = scalar(conn, f"select count(*) from raw.events_raw where load_id = '{load_id}'")
        quarantined = scalar(conn, f"select count(*) from raw.rejected_events where load_id = '{load_id}'")
        assert (loaded, rejected) == (in_raw, quarantined), file_name
    by_name = {name.rsplit("/", 1)[1]: (loaded, rejected) for name, _, loaded, rejected in recorded}
    assert by_name["b-mixed.gz"] == (1, 1), "the malformed line is the corpus file's (first by name)"
    assert by_name["d-again.gz"] == (1, 1), "the malformed line was quarantined by the first run"
    assert (by_name["c-empty.gz"], by_name["e1.gz"], by_name["e2.gz"]) == ((0, 0), (0, 4), (0, 1))
    assert sum(r for _, _, _, r in recorded) == first.rows_rejected + second.rows_rejected
    queued = "select count(*), count(distinct load_id) from raw.transform_queue"
    assert rows(conn, queued) == [(6, 6)], "every loaded file is queued, once"


# --- the dedup horizon -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("horizon_days", "orders"), [(60, 60), (7, 120)])
def test_a_copy_is_recognised_when_it_loads_within_the_dedup_horizon_of_the_first(
    world, horizon_days: int, orders: int
) -> None:
    """The same file delivered again 30 days after the first copy loaded. With a 60-day horizon its records
    are found and add nothing. With a 7-day horizon the models do not look that far back, by design (the
    stated limit of the horizon): its records load a second time."""
    conn, s3, bucket, _, _ = world
    put_ndjson(s3, bucket, seed_lines()[:60], name="first")
    load(world)
    transform.run_batch(conn)
    steps = scalar(conn, "select count(*) from analytics.events")
    age(conn, days=30)
    put_ndjson(s3, bucket, seed_lines()[:60], name="again")
    load(world)
    transform.run_batch(conn, dedup_horizon_days=horizon_days)
    assert scalar(conn, "select count(*) from analytics.orders") == orders
    assert scalar(conn, "select count(*) from analytics.events") == steps * orders // 60
    assert scalar(conn, "select count(distinct user_id) from analytics.users") == scalar(
        conn, "select count(*) from analytics.users"
    ), "users merge on the user, whatever the horizon"


def test_a_replay_of_files_first_loaded_beyond_the_horizon_counts_nothing_twice(world) -> None:
    """A replay forgets a file loaded 30 days ago (more than the 7-day horizon): its reload looks for earlier
    copies from the horizon before the file's first load, so it adds nothing."""
    conn, s3, bucket, _, _ = world
    key = put_ndjson(s3, bucket, seed_lines(), name="a")
    load(world)
    transform.run_batch(conn)
    age(conn, days=30)
    first_loaded_at = scalar(conn, "select loaded_at from raw.load_audit")

    maintenance.forget(conn, [key])
    counts = [scalar(conn, f"select count(*) from {t}") for t in ("raw.events_raw", "raw.load_audit")]
    assert counts == [0, 0]
    assert rows(conn, "select file_name, first_loaded_at from raw.replayed_files") == [(key, first_loaded_at)]

    assert load(world).files_loaded == 1
    transform.run_step(conn, "claim_batch", "replay")
    assert transform.batch_bounds(conn, "replay")["dedup_since"] == first_loaded_at - timedelta(days=7)
    transform.run_batch(conn)
    assert order_counts(conn) == (100, 98, 26)
    assert scalar(conn, "select count(*) from analytics.events") == scalar(
        conn, "select count(distinct event_id) from analytics.events"
    )
    assert scalar(conn, "select count(*) from raw.replayed_files") == 0


# --- data tests bounded to the batch ---------------------------------------------------------------------


def copy_order(conn: Any, order_id: str, loaded_at: Any) -> None:
    conn.cursor().execute(
        "insert into analytics.orders (order_id, user_id, order_type, status, created_at, loaded_at) "
        "select order_id, user_id, order_type, status, created_at, %(t)s from analytics.orders "
        "where order_id = %(k)s",
        {"k": order_id, "t": loaded_at},
    )


def failing_tests(conn: Any) -> dict[str, int]:
    """The data tests that fail on the whole tables, by failing rows (none: all pass)."""
    try:
        transform.test_tables(conn, freshness_hours=24)
    except transform.ChecksFailed as failed:
        return failed.failures
    return {}


def queued(conn: Any) -> int:
    return scalar(conn, "select count(*) from raw.transform_queue")


def test_a_batchs_tests_look_at_its_rows_and_the_dedup_horizon_only(world) -> None:
    conn, s3, bucket, _, _ = world
    put_ndjson(s3, bucket, seed_lines()[:50], name="a")
    load(world)
    transform.run_batch(conn)
    visits = [row[0] for row in rows(conn, "select order_id from analytics.orders where order_type != 'PURCHASE'")]

    # Outside: a copy of an order older than the next batch's dedup horizon, and raw rows of a file transformed
    # long ago whose record is in no table. A test of the whole tables fails on both; the next batch's tests do
    # not look there, by design (neither is what it wrote, nor where its copies are sought).
    long_ago = scalar(conn, "select dateadd('day', -30, sysdate())")
    copy_order(conn, visits[0], long_ago)
    conn.cursor().execute(
        "insert into raw.load_audit (file_name, load_id, status, loaded_at, transformed_at) "
        "values ('landing/old.gz', 'old', 'LOADED', %(t)s, %(t)s)",
        {"t": long_ago},
    )
    conn.cursor().execute(
        "insert into raw.events_raw (event_key, file_name, load_id, loaded_at) "
        "values ('lost-long-ago', 'landing/old.gz', 'old', %(t)s)",
        {"t": long_ago},
    )
    put_ndjson(s3, bucket, seed_lines()[50:], name="b")
    load(world)
    done = transform.run_batch(conn)
    assert set(done.tests.values()) == {0} and queued(conn) == 0
    assert failing_tests(conn) == {"conservation": 1, "unique_orders_order_id": 1}

    # Inside: a copy of another order, written within the next batch's horizon. That batch's tests fail, so it
    # is not finished: its file stays queued and the next run builds and tests it again, until the repair.
    copy_order(conn, visits[1], scalar(conn, "select dateadd('hour', -1, sysdate())"))
    put_ndjson(s3, bucket, seed_lines()[:10], name="c")  # a redelivery: the batch writes no new order
    load(world)
    for _ in range(2):
        with pytest.raises(transform.ChecksFailed) as failed:
            transform.run_batch(conn)
        assert failed.value.failures == {"unique_orders_order_id": 1}
        assert queued(conn) == 1
    conn.cursor().execute(
        "delete from analytics.orders where order_id = %(k)s and loaded_at < %(t)s",
        {"k": visits[1], "t": scalar(conn, "select dateadd('minute', -30, sysdate())")},
    )
    transform.run_batch(conn)
    assert queued(conn) == 0 and order_counts(conn) == (101, 98, 26)


def test_purchase_counts_are_tested_over_the_event_days_of_the_batchs_purchases(world) -> None:
    conn, s3, bucket, _, _ = world
    put_ndjson(s3, bucket, seed_lines()[:50], name="a")
    load(world)
    transform.run_batch(conn)
    (day,) = rows(conn, "select distinct daily from analytics.purchase_counts")[0]

    # Outside: a count on a day with no purchase of the next batch, so only a test of the whole tables sees it.
    conn.cursor().execute(
        "insert into analytics.purchase_counts (user_id, hour, daily, hourly_purchase_count, daily_purchase_count) "
        "values ('abcdef0123', '2020-01-01 10:00:00', '2020-01-01', 5, 5)"
    )
    put_ndjson(s3, bucket, seed_lines()[50:75], name="b")
    load(world)
    assert transform.run_batch(conn).tests["purchase_counts_match_orders"] == 0
    assert failing_tests(conn) == {"purchase_counts_match_orders": 1}

    # Inside: wrong counts on the day of the next batch's purchases. The model recounts only the users that
    # batch touches, so the test over the day fails, and the batch stays queued until the counts are repaired.
    bump = (
        "update analytics.purchase_counts set hourly_purchase_count = hourly_purchase_count + %(n)s where daily = %(d)s"
    )
    conn.cursor().execute(bump, {"n": 1, "d": day})
    put_ndjson(s3, bucket, seed_lines()[75:], name="c")
    load(world)
    with pytest.raises(transform.ChecksFailed) as failed:
        transform.run_batch(conn)
    assert failed.value.failures == {"purchase_counts_match_orders": 1} and queued(conn) == 1
    conn.cursor().execute(
        "update analytics.purchase_counts set hourly_purchase_count = hourly_purchase_count - 1 "
        "where daily = %(d)s and user_id not in (select user_id from raw.events_validated)",
        {"d": day},
    )
    conn.cursor().execute("delete from analytics.purchase_counts where daily = '2020-01-01'")
    transform.run_batch(conn)
    assert queued(conn) == 0 and failing_tests(conn) == {}
    assert order_counts(conn) == (100, 98, 26)
