"""The pipeline's sessions on real Snowflake: pinned session parameters, and a retry stopping its earlier tries.

Session parameters (https://docs.snowflake.com/en/sql-reference/parameters): ``ABORT_DETACHED_QUERY`` defaults to
FALSE, so a statement whose client was killed runs on and commits; TRUE aborts it five minutes after the
connection is lost. ``QUERY_TAG`` (a string of up to 2,000 characters) tags every statement of the session; the
hook sends the DAG run and try there. ``AUTOCOMMIT`` is pinned TRUE (test_autocommit.py). The connector
sends ``session_parameters`` with the login request; the emulator ignores all three but AUTOCOMMIT, so the tests
check what reached it.

A retry stops what its earlier tries left running, with what Snowflake allows a user on its own work:
- ``INFORMATION_SCHEMA.QUERY_HISTORY_BY_USER`` returns the current user's statements with QUERY_TAG,
  SESSION_ID and EXECUTION_STATUS (RUNNING, QUEUED, BLOCKED, RESUMING_WAREHOUSE while not ended); without
  END_TIME_RANGE_END it includes statements still running
  (https://docs.snowflake.com/en/sql-reference/functions/query_history);
- ``SYSTEM$CANCEL_QUERY(id)``: "A user can cancel their own running SQL operations"
  (https://docs.snowflake.com/en/sql-reference/functions/system_cancel_query);
- ``SHOW TRANSACTIONS`` lists the current user's running transactions (id, user, session, name, started_on,
  state, scope) (https://docs.snowflake.com/en/sql-reference/sql/show-transactions), and
  ``SYSTEM$ABORT_TRANSACTION(id)`` aborts one: "Transactions can be aborted only by the user who started the
  transaction or an account administrator"
  (https://docs.snowflake.com/en/sql-reference/functions/system_abort_transaction). A killed client's open
  transaction is otherwise left "detached" with its locks, and aborted only once it has blocked another for
  five idle minutes (https://docs.snowflake.com/en/sql-reference/transactions#aborting-transactions).
fakesnow has none of these, so Snowflake's answers are injected around the real connector on the emulator: the
query history's rows stand in for the table function inside the real statement, whose filter the emulator runs.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

from mobile_events_elt.config.snowflake_hook import PipelineSnowflakeHook
from mobile_events_elt.warehouse import exclusion, setup
from mobile_events_elt.warehouse.pipeline import use_database
from tests.support.exclusion import RUN, airflow_connection, elt_try
from tests.support.statements import Requests, logging_snowflake
from tests.support.warehouse import prepare, scalar, settings_for


@pytest.fixture(scope="module")
def logged_snowflake(run_dir: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """A Snowflake emulator that logs each login with the session parameters it sent."""
    with logging_snowflake(run_dir, "logins") as server_and_log:
        yield server_and_log


def test_the_parameters_reach_the_login_and_the_emulator_runs_statements_as_usual(
    logged_snowflake, monkeypatch
) -> None:
    server, log = logged_snowflake
    airflow_connection(monkeypatch, "logged", server)
    caller = elt_try(1)
    requests = Requests(log)
    requests.mark()
    conn = PipelineSnowflakeHook(snowflake_conn_id="logged", query_tag=caller.query_tag).get_conn()
    try:
        assert conn.cursor().execute("select 1 as one").fetchone() == (1,)
    finally:
        conn.close()
    (login,) = [line for line in requests.since_mark() if line["kind"] == "login"]
    sent = login["session_parameters"]
    assert (sent["AUTOCOMMIT"], sent["ABORT_DETACHED_QUERY"], sent["QUERY_TAG"]) == (True, True, caller.query_tag)


# --- a retry stopping its earlier tries, with Snowflake's answers injected ---

_HISTORY_CALL = re.compile(r"table\(information_schema\.query_history_by_user\(.*?result_limit => \d+\s*\)\)", re.S)
_HISTORY_COLUMNS = ["query_id", "session_id", "query_tag", "execution_status"]
_TRANSACTION_COLUMNS = ["id", "user", "session", "name", "started_on", "state", "scope"]


class SnowflakeAnswers:
    """A real emulator connection that answers the query history, SHOW TRANSACTIONS, SYSTEM$CANCEL_QUERY and
    SYSTEM$ABORT_TRANSACTION as Snowflake does; ``failing`` makes the named one fail as Snowflake would."""

    def __init__(self, conn: Any, history: list[tuple[Any, ...]], transactions: list[tuple[Any, ...]]) -> None:
        self.conn, self.history, self.transactions = conn, history, transactions
        self.failing: dict[str, Exception] = {}
        # What aborting a transaction does to the emulator's session standing for it (Snowflake rolls it back).
        self.on_abort: dict[int, Any] = {}
        self.cancelled: list[str] = []
        self.aborted: list[int] = []
        self.statements: list[str] = []

    def cursor(self) -> AnsweringCursor:
        return AnsweringCursor(self, self.conn.cursor())


class AnsweringCursor:
    def __init__(self, owner: SnowflakeAnswers, real: Any) -> None:
        self.owner, self.real = owner, real
        self.answer: tuple[list[tuple[str]], list[tuple[Any, ...]]] | None = None

    def execute(self, statement: str, params: Any = None) -> AnsweringCursor:
        owner, self.answer = self.owner, None
        owner.statements.append(statement)
        for kind in ("query_history_by_user", "show transactions", "system$cancel_query", "system$abort_transaction"):
            if kind in statement.lower() and kind in owner.failing:
                raise owner.failing[kind]
        if _HISTORY_CALL.search(statement):
            rows = exp.values(owner.history, alias="history_rows", columns=_HISTORY_COLUMNS)
            self.real.execute(_HISTORY_CALL.sub(f"(select * from {rows.sql(dialect='snowflake')})", statement), params)
        elif statement.strip().lower() == "show transactions":
            self.answer = [(c,) for c in _TRANSACTION_COLUMNS], list(owner.transactions)
        elif "system$cancel_query" in statement:
            owner.cancelled.append(params["query_id"])
            self.answer = [("result",)], [(f"query [{params['query_id']}] terminated.",)]
        elif "system$abort_transaction" in statement:
            owner.aborted.append(params["transaction_id"])
            if effect := owner.on_abort.get(params["transaction_id"]):
                effect()
            self.answer = [("result",)], [(f"Aborted transaction id: {params['transaction_id']}",)]
        else:
            self.real.execute(statement, params)
        return self

    @property
    def description(self) -> Any:
        return self.answer[0] if self.answer else self.real.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.answer[1] if self.answer else self.real.fetchall()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


# Try 3 is starting. Try 1 was killed with an insert still running in session 101; try 2 blocked on its lock in
# session 102 and was killed too. Session 103 is try 3's own; 104 another run's; 105 the CLI's; 106 a try 12
# (a later try is never this one's to stop).
HISTORY = [
    ("q-insert", 101, f"mobile_events_elt/{RUN}/load_transform_check/try-1", "RUNNING"),
    ("q-claim", 101, f"mobile_events_elt/{RUN}/load_transform_check/try-1", "SUCCESS"),
    ("q-blocked", 102, f"mobile_events_elt/{RUN}/load_transform_check/try-2", "BLOCKED"),
    ("q-failed", 102, f"mobile_events_elt/{RUN}/load_transform_check/try-2", "FAILED_WITH_ERROR"),
    ("q-mine", 103, f"mobile_events_elt/{RUN}/load_transform_check/try-3", "RUNNING"),
    ("q-other-run", 104, "mobile_events_elt/manual__2026-03-01T11:00:00+00:00/load_transform_check/try-1", "RUNNING"),
    ("q-cli", 105, "cli/transform/ops@host/pid-42", "RUNNING"),
    ("q-later", 106, f"mobile_events_elt/{RUN}/load_transform_check/try-12", "RUNNING"),
]
TRANSACTIONS = [
    (9001, "PIPELINE", 101, str(uuid.uuid4()), "2026-03-01 10:00:05", "running", 0),
    (9002, "PIPELINE", 102, str(uuid.uuid4()), "2026-03-01 10:00:30", "running", 0),
    (9003, "PIPELINE", 103, str(uuid.uuid4()), "2026-03-01 10:01:00", "running", 0),
    (9004, "PIPELINE", 104, str(uuid.uuid4()), "2026-03-01 11:00:02", "running", 0),
]


@pytest.fixture
def prepared(snowflake_server, snowflake_conn, snowflake_database) -> Iterator[Any]:
    prepare(snowflake_conn, settings_for(snowflake_database))
    conn = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
    use_database(conn, snowflake_database)
    yield conn
    conn.close()


def test_a_retry_cancels_and_aborts_only_its_earlier_tries_work(prepared) -> None:
    answers = SnowflakeAnswers(prepared, HISTORY, TRANSACTIONS)
    stopped = exclusion.stop_earlier_attempts(answers.cursor(), elt_try(3))
    assert answers.cancelled == stopped.cancelled == ["q-insert", "q-blocked"]
    assert answers.aborted == stopped.aborted == [9001, 9002]
    assert stopped.problems == []


def test_a_retry_stops_its_earlier_tries_before_it_takes_the_lease_over(prepared, snowflake_conn) -> None:
    """Try 1 died holding the lease; try 3 stops what is left of tries 1 and 2, then takes it over."""
    first = exclusion.acquire(prepared.cursor(), elt_try(1), setup.schema_version())
    answers = SnowflakeAnswers(prepared, HISTORY, TRANSACTIONS)
    with exclusion.held(answers, elt_try(3), setup.schema_version(), wait_seconds=0) as lease:
        assert scalar(snowflake_conn, "select holder from raw.pipeline_lease") == elt_try(3).who
    assert lease.token != first.token
    taking = next(i for i, s in enumerate(answers.statements) if s.startswith("update raw.pipeline_lease"))
    stopping = [i for i, s in enumerate(answers.statements) if "system$" in s]
    assert len(stopping) == 4 and max(stopping) < taking


@pytest.mark.parametrize(
    "failing",
    [
        ("query_history_by_user", ProgrammingError(msg="Information schema query returned too much data", errno=90030)),
        ("system$cancel_query", ProgrammingError(msg="SQL execution canceled", errno=604, sqlstate="57014")),
        ("show transactions", ProgrammingError(msg="Insufficient privileges to operate on account", errno=3001)),
    ],
    ids=["history", "cancel", "transactions"],
)
def test_what_snowflake_refuses_is_logged_and_the_retry_still_takes_over(prepared, caplog, failing) -> None:
    kind, error = failing
    exclusion.acquire(prepared.cursor(), elt_try(1), setup.schema_version())
    answers = SnowflakeAnswers(prepared, HISTORY, TRANSACTIONS)
    answers.failing[kind] = error
    warnings = caplog.at_level(logging.WARNING, logger="mobile_events_elt.warehouse.exclusion")
    with warnings, exclusion.held(answers, elt_try(3), setup.schema_version(), wait_seconds=0) as lease:
        assert exclusion.current() == lease
    assert any("could not stop the lease's earlier holder's work" in r.getMessage() for r in caplog.records)


def test_on_the_emulator_the_retry_logs_what_it_cannot_stop_and_takes_over(prepared, caplog) -> None:
    """fakesnow has no query history: the optimisation fails, logged, and the lease still fences try 1 off."""
    exclusion.acquire(prepared.cursor(), elt_try(1), setup.schema_version())
    warnings = caplog.at_level(logging.WARNING, logger="mobile_events_elt.warehouse.exclusion")
    with warnings, exclusion.held(prepared, elt_try(2), setup.schema_version(), wait_seconds=0):
        holder = prepared.cursor().execute("select holder from raw.pipeline_lease").fetchone()[0]
    assert holder == elt_try(2).who
    assert any("query history" in r.getMessage() for r in caplog.records)


def test_the_emulator_runs_a_merge_inside_a_transaction_after_another_write(prepared) -> None:
    """The transform's MERGEs run in fenced transactions; fakesnow failed them ("a single transaction can only
    write to a single attached database") until the launcher's fix (local_stack/snowflake_emulator.py)."""
    cursor = prepared.cursor()
    cursor.execute("create or replace table raw.merge_probe (k number, v number)")
    cursor.execute("begin")
    cursor.execute("update raw.pipeline_lease set renewed_at = sysdate() where lease_name = 'pipeline'")
    cursor.execute(
        "merge into raw.merge_probe as target using (select 1 as k, 2 as v) as source on target.k = source.k "
        "when matched then update set v = source.v when not matched then insert (k, v) values (source.k, source.v)"
    )
    cursor.execute("commit")
    assert cursor.execute("select k, v from raw.merge_probe").fetchall() == [(1, 2)]


def test_a_later_run_blocked_by_a_dead_runs_transaction_aborts_it_and_takes_over(prepared, snowflake_server) -> None:
    """Run A's last try was killed inside a write transaction: it still locks the lease row (detached). Run B of
    the same task may take the lease over (Airflow runs one at a time) but its UPDATE is blocked (a write
    conflict on the emulator, a lock wait on Snowflake): it finds run A's session by QUERY_TAG, aborts its
    transaction, and takes the lease on its next try."""
    run_a = elt_try(2)
    dead = snowflake.connector.connect(**snowflake_server, database=prepared.database)
    use_database(dead, prepared.database)
    try:
        lease = exclusion.acquire(dead.cursor(), run_a, setup.schema_version())
        detached = dead.cursor()
        detached.execute("begin")
        detached.execute(
            "update raw.pipeline_lease set renewed_at = sysdate() where token = %(token)s", {"token": lease.token}
        )
        history = [
            ("q-dead-insert", 201, run_a.query_tag, "RUNNING"),
            ("q-dead-claim", 201, run_a.query_tag, "SUCCESS"),
        ]
        transactions = [(9101, "PIPELINE", 201, str(uuid.uuid4()), "2026-03-01 10:00:05", "running", 0)]
        answers = SnowflakeAnswers(prepared, history, transactions)
        answers.on_abort[9101] = lambda: detached.execute("rollback")
        run_b = elt_try(1, run="scheduled__2026-03-01T10:01:00+00:00")
        with exclusion.held(answers, run_b, setup.schema_version(), wait_seconds=60, poll_seconds=0.1):
            holder = prepared.cursor().execute("select holder from raw.pipeline_lease").fetchone()[0]
        assert holder == run_b.who
        assert (answers.cancelled, answers.aborted) == (["q-dead-insert"], [9101])
    finally:
        dead.close()
