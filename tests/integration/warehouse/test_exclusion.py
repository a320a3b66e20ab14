"""One transform at a time: two sessions on the Snowflake emulator, as two tries of a task (or a try and the CLI)
would run them. Each "try" is a session on a thread of its own, where its lease lives (``exclusion.held``).

The experiment that found the defect: one session holds an uncommitted orders insert (what a killed try's
detached statement is) while another runs the whole transform. Without the lease, the second inserts the same
orders and the first commits them again: ANALYTICS.ORDERS holds duplicates (the control below). With it, the
second waits for the first's transaction (or fails naming the holder), then takes the lease over or gets it
back; a try that was fenced off writes nothing more. Whatever the order, ``orders_key_unique`` ends at 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from mobile_events_elt.warehouse import exclusion, loader, setup, transform
from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, sessions, settings_for

RUN = "scheduled__2026-01-01T00:00:00+00:00"
DUPLICATE_ORDERS = "select count(*) - count(distinct order_id) from analytics.orders"
STARTED: list[Attempt] = []


def try_of_the_elt_task(number: int) -> exclusion.Caller:
    return exclusion.Caller.task("mobile_events_elt", RUN, "load_transform_check", number)


class Attempt:
    """A writer on its own session and thread: the lease it takes lives in that thread's context."""

    def __init__(self, conn: Any, caller: exclusion.Caller) -> None:
        self.conn, self.caller = conn, caller
        self.cursor = conn.cursor()
        self.batch = transform.new_batch_id()
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._lease = ExitStack()
        self.stopped = False
        STARTED.append(self)

    def run(self, work: Callable[[], Any]) -> Any:
        return self._thread.submit(work).result()

    def take_lease(self, wait_seconds: float = 0.0) -> None:
        held = exclusion.held(self.conn, self.caller, setup.schema_version(), wait_seconds, poll_seconds=0.1)
        self.run(lambda: self._lease.enter_context(held))

    def step(self, name: str) -> int:
        return self.run(lambda: transform.run_step(self.conn, name, self.batch))

    def open_orders_insert(self) -> int:
        """The steps before the orders model, then its insert (the model's SELECT as dbt compiles it for the
        batch) in a fenced transaction, left uncommitted: what a killed try's detached statement is."""
        for name in transform.STEPS[: transform.STEPS.index("orders")]:
            if name != "rejected_events":
                self.step(name)
        insert = orders_insert(self.conn, self.batch)

        def insert_uncommitted() -> int:
            self.cursor.execute("begin")
            exclusion.fence(self.cursor)  # what every write transaction runs first
            self.cursor.execute(insert)
            return int(self.cursor.rowcount)

        return self.run(insert_uncommitted)

    def commit(self) -> None:
        self.run(lambda: self.cursor.execute("commit"))

    def abort(self) -> None:
        """The transaction ends without committing: a client's rollback, or Snowflake aborting a killed client's
        detached transaction (SYSTEM$ABORT_TRANSACTION, or after five idle minutes)."""
        self.run(lambda: self.cursor.execute("rollback"))

    def finish_batch(self) -> None:
        for name in ["rejected_events", *transform.STEPS[transform.STEPS.index("events") :]]:
            self.step(name)

    def stop(self) -> None:
        """Leave the lease block (releasing the lease if this try still holds it) and end the thread."""
        if not self.stopped:
            self.run(self._lease.close)
            self._thread.shutdown()
            self.stopped = True


def orders_insert(conn: Any, batch: str) -> str:
    """The orders model's insert for a claimed batch: what dbt runs, on a session of the test's own."""
    select = transform.compiled_model(conn, "orders", batch)
    columns = [row[0] for row in conn.cursor().execute("describe table analytics.orders").fetchall()]
    return f"insert into analytics.orders ({', '.join(columns)}) select {', '.join(columns)} from ({select})"


def whole_transform(conn: Any, caller: exclusion.Caller, wait_seconds: float) -> Future:
    """Another writer running the whole transform, as ``mobile-events-warehouse transform`` or a retry does."""

    def work() -> dict[str, int]:
        with exclusion.held(conn, caller, setup.schema_version(), wait_seconds, poll_seconds=0.1):
            return transform.run_all(conn)

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database) -> Iterator[dict[str, Any]]:
    """A database with the seed's 100 records loaded in two files, not yet transformed; ``session()`` opens
    another session on it."""
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    put_ndjson(s3, bucket, seed_lines()[60:], name="b")
    assert loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings).files_loaded == 2
    with sessions(snowflake_server, snowflake_database) as session:
        yield {"conn": snowflake_conn, "session": session}
        while STARTED:  # a test that failed half-way leaves its tries' threads and leases behind
            STARTED.pop().stop()


def assert_each_order_once(conn: Any) -> None:
    assert scalar(conn, DUPLICATE_ORDERS) == 0
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    assert scalar(conn, "select count(*) from raw.load_audit where transformed_at is null") == 0
    assert transform.test_tables(conn, freshness_hours=24)["unique_orders_order_id"] == 0


def test_without_the_lease_the_experiment_doubles_orders(world) -> None:
    """The control: the same interleaving with no lease taken leaves every order twice."""
    first = world["session"]()
    batch = transform.new_batch_id()
    for name in ("claim_batch", "int_events_validated"):
        transform.run_step(first, name, batch)
    cursor = first.cursor()
    insert = orders_insert(first, batch)
    cursor.execute("begin")
    cursor.execute(insert)
    transform.run_all(world["session"]())
    cursor.execute("commit")
    assert scalar(world["conn"], DUPLICATE_ORDERS) == 100


def test_while_a_try_holds_an_open_insert_another_writer_fails_naming_it(world) -> None:
    first = Attempt(world["session"](), try_of_the_elt_task(1))
    first.take_lease()
    assert first.open_orders_insert() == 100
    try:
        for second in (exclusion.Caller.command("transform"), try_of_the_elt_task(2)):
            with pytest.raises(exclusion.LeaseHeld) as busy:
                whole_transform(world["session"](), second, wait_seconds=0).result()
            message = str(busy.value)
            assert f"held by mobile_events_elt run {RUN} task load_transform_check try 1 since" in message
        assert scalar(world["conn"], "select count(*) from analytics.orders") == 0  # the open insert is not visible
    finally:
        first.abort()
        first.stop()
    assert scalar(world["conn"], "select token is null from raw.pipeline_lease") is True


@pytest.mark.parametrize("first_ends", ["commits", "is_aborted"])
@pytest.mark.parametrize("successor", ["try 2", "next run"])
def test_a_retry_waits_for_its_earlier_tries_open_insert_then_fences_it_off(
    world, first_ends: str, successor: str
) -> None:
    """Try 1 holds an open insert; try 2 (or the task in the next run: Airflow runs one at a time) starts the
    whole transform and waits on the lease row's lock. Try 1's transaction commits, or ends without committing
    (killed, its detached transaction aborted); the successor then takes the lease over. Try 1, should it go
    on, is fenced off."""
    first = Attempt(world["session"](), try_of_the_elt_task(1))
    first.take_lease()
    assert first.open_orders_insert() == 100
    if successor == "try 2":
        caller = try_of_the_elt_task(2)
    else:
        caller = exclusion.Caller.task(
            "mobile_events_elt", "scheduled__2026-01-01T00:01:00+00:00", "load_transform_check", 1
        )
    second = whole_transform(world["session"](), caller, wait_seconds=60)
    if first_ends == "commits":
        first.commit()
    else:
        first.abort()
    changed = second.result()
    assert changed["orders"] == (0 if first_ends == "commits" else 100)
    with pytest.raises(exclusion.Fenced, match=r"load_transform_check try 1 lost the pipeline's lease"):
        first.step("events")
    first.stop()
    assert_each_order_once(world["conn"])


def test_another_writer_waits_for_the_holder_to_finish(world) -> None:
    """Try 1 holds an open insert; the CLI starts a transform and waits; try 1 commits, finishes its batch and
    releases the lease; then the CLI's transform runs and finds nothing left to insert."""
    first = Attempt(world["session"](), try_of_the_elt_task(1))
    first.take_lease()
    assert first.open_orders_insert() == 100
    cli = whole_transform(world["session"](), exclusion.Caller.command("transform"), wait_seconds=60)
    first.commit()
    first.finish_batch()
    first.stop()
    assert cli.result()["orders"] == 0
    assert_each_order_once(world["conn"])


def test_another_writer_takes_over_a_killed_tries_lease_once_it_expires(world, monkeypatch) -> None:
    """Try 1 is killed with its insert open: the transaction is aborted, the lease never released. The CLI,
    which may not take it over, waits until it expires, then transforms everything once."""
    monkeypatch.setattr(exclusion, "TTL_SECONDS", 2)
    first = Attempt(world["session"](), try_of_the_elt_task(1))
    first.take_lease()
    assert first.open_orders_insert() == 100
    cli = whole_transform(world["session"](), exclusion.Caller.command("transform"), wait_seconds=60)
    first.abort()  # and the process is gone: no release
    assert cli.result()["orders"] == 100
    first.stop()
    assert_each_order_once(world["conn"])


def test_a_try_fenced_off_between_statements_writes_nothing_more(world) -> None:
    """Try 1 is alive but slow (Airflow gave up on it): try 2 takes the lease over at once and transforms
    everything; try 1's next write transaction finds another token and rolls back."""
    first = Attempt(world["session"](), try_of_the_elt_task(1))
    first.take_lease()
    first.step("claim_batch")
    first.step("int_events_validated")
    assert whole_transform(world["session"](), try_of_the_elt_task(2), wait_seconds=0).result()["orders"] == 100
    with pytest.raises(exclusion.Fenced):
        first.step("orders")
    first.stop()  # it no longer holds the lease: releasing changes nothing (logged)
    assert_each_order_once(world["conn"])
    assert scalar(world["conn"], "select token is null from raw.pipeline_lease") is True


@pytest.mark.parametrize("callers", ["cli_and_cli", "two_tries_of_one_run"])
def test_two_transforms_started_together_never_insert_a_row_twice(world, callers: str) -> None:
    """Both start at once (a barrier): one takes the lease, the other waits (two CLI runs), or fences the first
    off (try 2 of the same task); either way no order is inserted twice."""
    if callers == "cli_and_cli":
        pair = [exclusion.Caller.command("transform"), exclusion.Caller.command("transform")]
    else:
        pair = [try_of_the_elt_task(1), try_of_the_elt_task(2)]
    barrier = threading.Barrier(2)
    sessions = [world["session"](), world["session"]()]

    def run(index: int) -> dict[str, int]:
        barrier.wait()
        with exclusion.held(sessions[index], pair[index], setup.schema_version(), 60, poll_seconds=0.1):
            return transform.run_all(sessions[index])

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run, index) for index in range(2)]
        outcomes = [future.exception() or future.result() for future in futures]
    if callers == "cli_and_cli":
        assert sorted(outcome["orders"] for outcome in outcomes) == [0, 100]
    else:
        # Try 2 always finishes; try 1 either finished before it or was fenced off (a write conflict on the
        # emulator when the takeover lands inside its transaction), writing nothing more.
        assert isinstance(outcomes[1], dict)
        assert isinstance(outcomes[0], (dict, exclusion.Fenced, ProgrammingError))
    assert_each_order_once(world["conn"])
