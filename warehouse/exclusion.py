"""One writer at a time: a lease every writer takes, and a fencing token every write transaction re-validates.

The lease is one row of ``raw.pipeline_lease``; ``held()`` takes it (waiting, then failing naming the holder),
``fence()`` re-validates it at the start of every ``warehouse.transactions.transaction``, and a retry stops its
earlier tries' statements before taking over, so a fenced-off or killed writer commits nothing more. Design
and limits: docs/exclusion.md.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from snowflake.connector.errors import DatabaseError, ProgrammingError

from warehouse import sql_files

# The migration that creates raw.pipeline_lease: the ones before it run without the lease, which does not exist yet.
LEASE_MIGRATION = 41
# A holder renews the lease in every write transaction; one that stops (a killed process) loses it after this.
TTL_SECONDS = 600
# How long a caller waits for a lease another holds before it fails naming the holder, and how often it asks.
WAIT_SECONDS = 120.0
POLL_SECONDS = 5.0
# Snowflake's limit on QUERY_TAG (https://docs.snowflake.com/en/sql-reference/parameters#query-tag).
QUERY_TAG_LIMIT = 2000
# Snowflake's error for an object that does not exist or is not authorized.
_NO_SUCH_OBJECT = 2003
# QUERY_HISTORY's EXECUTION_STATUS values of a statement that has not ended.
_UNFINISHED = {"RUNNING", "QUEUED", "BLOCKED", "RESUMING_WAREHOUSE"}
_TRY = re.compile(r"/try-(\d+)$")

log = logging.getLogger(__name__)


class ExclusionError(RuntimeError):
    """The pipeline may not write now; the message says who or what is in the way."""


class LeaseHeld(ExclusionError):
    """Another writer held the lease for as long as this caller would wait."""

    def __init__(self, state: LeaseState, waited: float, last_error: BaseException | None = None) -> None:
        self.state = state
        why = f"; the last try to take it failed: {last_error}" if last_error else ""
        super().__init__(f"the pipeline is busy: {state.describe()}; waited {waited:.0f} s{why}")


class SchemaVersionMismatch(ExclusionError):
    """The code expects another schema version than the database has."""

    def __init__(self, expected: int, found: int | None) -> None:
        self.expected, self.found = expected, found
        run_setup = "run setup (python -m warehouse setup, or the DAG snowflake_setup)"
        if found is None:
            action = f"the database records no migration: {run_setup}"
        elif found < expected:
            action = f"{run_setup} to bring the database up to date"
        else:
            action = "the database was migrated by newer code: deploy that code"
        shown = "none" if found is None else f"V{found:03d}"
        super().__init__(
            f"this code expects schema version V{expected:03d} but the database has {shown}: {action}; "
            "nothing was written"
        )


class Fenced(ExclusionError):
    """This writer's lease was taken over: its transaction rolls back without writing."""


@dataclass(frozen=True)
class Caller:
    """Who writes: named in the lease row, the sessions' QUERY_TAG and every error about the lease."""

    who: str
    query_tag: str
    # An Airflow task (DAG and task) and its run: the task in a later try or another run may take the lease over.
    task_key: str | None = None
    run_key: str | None = None
    attempt: int = 1

    @classmethod
    def task(cls, dag_id: str, run_id: str, task_id: str, try_number: int) -> Caller:
        run_key = f"{dag_id}/{run_id}/{task_id}"[: QUERY_TAG_LIMIT - 16]
        return cls(
            who=f"{dag_id} run {run_id} task {task_id} try {try_number}",
            query_tag=f"{run_key}/try-{try_number}",
            task_key=f"{dag_id}/{task_id}",
            run_key=run_key,
            attempt=try_number,
        )

    @classmethod
    def of_task_instance(cls, ti: Any) -> Caller:
        """The running Airflow task instance (``ti`` from the task's context)."""
        return cls.task(ti.dag_id, ti.run_id, ti.task_id, int(ti.try_number or 1))

    @classmethod
    def command(cls, name: str) -> Caller:
        """A process outside Airflow: ``python -m warehouse <name>``, a script, a test."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        where = f"{user}@{socket.gethostname()}"
        return cls(
            who=f"python -m warehouse {name} ({where}, pid {os.getpid()})",
            query_tag=f"cli/{name}/{where}/pid-{os.getpid()}"[:QUERY_TAG_LIMIT],
        )


@dataclass(frozen=True)
class Lease:
    token: str
    caller: Caller


@dataclass(frozen=True)
class LeaseState:
    """The lease row as a caller that could not take it sees it, with the database's schema version."""

    holder: str | None
    task_key: str | None
    run_key: str | None
    attempt: int | None
    acquired_at: datetime | None
    expires_at: datetime | None
    is_held: bool
    is_expired: bool
    schema_version: int | None

    def taken_over_by(self, caller: Caller) -> bool:
        """Whether ``caller`` may take the lease over from its holder: the same task, in an earlier try or
        another run (acquire.sql's condition, read back)."""
        if caller.task_key is None or self.task_key != caller.task_key:
            return False
        return self.run_key != caller.run_key or (self.attempt or 0) < caller.attempt

    def blocks(self, caller: Caller) -> bool:
        """Whether the row keeps ``caller`` out."""
        return self.is_held and not self.is_expired and not self.taken_over_by(caller)

    def describe(self) -> str:
        if not self.is_held:
            return "the lease is free"
        if not (self.acquired_at and self.expires_at):
            return f"held by {self.holder}"
        since, until = f"{self.acquired_at:%Y-%m-%d %H:%M:%S}", f"{self.expires_at:%H:%M:%S}"
        return f"held by {self.holder} since {since} UTC, until {until} UTC unless renewed"


_current: ContextVar[Lease | None] = ContextVar("pipeline_lease", default=None)


def current() -> Lease | None:
    """The lease held in this context (by ``held()``), if any."""
    return _current.get()


@contextmanager
def held(
    conn: Any,
    caller: Caller,
    schema_version: int | None,
    wait_seconds: float | None = None,
    poll_seconds: float | None = None,
) -> Iterator[Lease]:
    """Hold the pipeline's lease for the block: every ``transaction()`` in it re-validates it first.

    ``schema_version``: the version the code expects (``setup.schema_version()``), or None for setup itself.
    A later try of an Airflow task first stops its earlier tries' work (``stop_earlier_attempts``).
    The lease is released when the block ends, whatever happens in it; nested, the outer lease is reused.
    """
    if (outer := _current.get()) is not None:
        yield outer
        return
    cursor = conn.cursor()
    if caller.run_key is not None and caller.attempt > 1:
        stop_earlier_attempts(cursor, caller)
    lease = acquire(cursor, caller, schema_version, wait_seconds, poll_seconds)
    marker = _current.set(lease)
    try:
        yield lease
    finally:
        _current.reset(marker)
        release(cursor, lease)


def acquire(
    cursor: Any,
    caller: Caller,
    schema_version: int | None,
    wait_seconds: float | None = None,
    poll_seconds: float | None = None,
) -> Lease:
    """Take the lease, waiting up to ``wait_seconds`` (``WAIT_SECONDS``) while another writer holds it; then fail
    naming it.

    A database at another schema version than ``schema_version`` fails at once (SchemaVersionMismatch), unless
    a writer (setup) holds the lease: then it waits for it, as the version may be the one expected afterwards.
    """
    lease = Lease(uuid.uuid4().hex, caller)
    params = {
        "lease_token": lease.token,
        "lease_holder": caller.who,
        "lease_task_key": caller.task_key,
        "lease_run_key": caller.run_key,
        "lease_attempt": caller.attempt,
        "lease_ttl_seconds": TTL_SECONDS,
        "schema_version": schema_version,
    }
    started, stopped_holder = time.monotonic(), False
    while True:
        error: DatabaseError | None = None
        try:
            if _rowcount(cursor, "exclusion/acquire.sql", params) == 1:
                log.info("took the pipeline's lease as %s", caller.who)
                return lease
        except DatabaseError as exc:
            # Snowflake: the row is locked by another writer's open transaction past LOCK_TIMEOUT; the emulator
            # answers a write conflict at once. Either way the row says who is in the way.
            error = exc
        state = read_state(cursor, schema_version, error)
        # An error while the row is held: its holder (or an earlier try's open transaction) has it locked.
        busy = state.blocks(caller) or (error is not None and state.is_held)
        if not busy:
            if schema_version is not None and state.schema_version != schema_version:
                raise SchemaVersionMismatch(schema_version, state.schema_version)
            if error is not None:
                raise error
        waited = time.monotonic() - started
        if waited >= (WAIT_SECONDS if wait_seconds is None else wait_seconds):
            raise LeaseHeld(state, waited, error) from error
        if error is not None and state.is_held and state.taken_over_by(caller) and not stopped_holder:
            # A holder this caller may take over from, whose open transaction still locks the row.
            stop_holder(cursor, state, caller)
            stopped_holder = True
        log.info("waiting for the pipeline's lease: %s", state.describe())
        time.sleep(POLL_SECONDS if poll_seconds is None else poll_seconds)


def read_state(cursor: Any, schema_version: int | None = None, error: BaseException | None = None) -> LeaseState:
    """The lease row and the schema version. Without the lease table (a database before V041), a caller that
    expects a version is told the database's; otherwise the original error stands."""
    try:
        rows = sql_files.run_file(cursor, "exclusion/state.sql")
    except ProgrammingError as exc:
        if exc.errno != _NO_SUCH_OBJECT or schema_version is None:
            raise
        found = _recorded_version(cursor)
        if found == schema_version:
            raise
        raise SchemaVersionMismatch(schema_version, found) from (error or exc)
    if not rows:
        raise ExclusionError("raw.pipeline_lease has no row 'pipeline': run setup (migration V041 inserts it)")
    holder, task_key, run_key, attempt, acquired_at, expires_at, is_held, is_expired, version = rows[0]
    return LeaseState(
        holder=holder,
        task_key=task_key,
        run_key=run_key,
        attempt=None if attempt is None else int(attempt),
        acquired_at=acquired_at,
        expires_at=expires_at,
        is_held=bool(is_held),
        is_expired=bool(is_expired),
        schema_version=None if version is None else int(version),
    )


def _recorded_version(cursor: Any) -> int | None:
    try:
        row = cursor.execute("select max(migrations.version) from raw.schema_migrations as migrations").fetchone()
    except ProgrammingError as exc:
        if exc.errno != _NO_SUCH_OBJECT:
            raise
        return None
    return None if row is None or row[0] is None else int(row[0])


def fence(cursor: Any) -> None:
    """In a transaction: re-validate the lease held in this context (nothing without one); raise Fenced if it
    was taken over, so the transaction rolls back. Outside one: renew it (setup, between migrations)."""
    lease = _current.get()
    if lease is None:
        return
    params = {"lease_token": lease.token, "lease_ttl_seconds": TTL_SECONDS}
    if _rowcount(cursor, "exclusion/fence.sql", params) != 1:
        state = read_state(cursor)
        raise Fenced(
            f"{lease.caller.who} lost the pipeline's lease ({state.describe()}): nothing of this transaction is written"
        )


def release(cursor: Any, lease: Lease) -> bool:
    """Give the lease back; False if it had been taken over. A failure is logged: the lease then expires."""
    try:
        released = _rowcount(cursor, "exclusion/release.sql", {"lease_token": lease.token}) == 1
    except DatabaseError as exc:
        log.warning("could not release the pipeline's lease (it expires within %d s): %s", TTL_SECONDS, exc)
        return False
    if not released:
        log.warning("%s had lost the pipeline's lease before releasing it", lease.caller.who)
    return released


def _rowcount(cursor: Any, relative: str, params: dict[str, Any]) -> int:
    (statement,) = sql_files.statements(relative)
    cursor.execute(statement, params)
    return int(cursor.rowcount or 0)


@dataclass
class Stopped:
    """What stopping a run's work did: statements cancelled, transactions aborted, and what failed."""

    cancelled: list[str] = field(default_factory=list)
    aborted: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def stop_earlier_attempts(cursor: Any, caller: Caller) -> Stopped:
    """Before a retry takes the lease over: stop its earlier tries' work (``_stop_run``)."""
    return _stop_run(cursor, caller, str(caller.run_key), lambda attempt: attempt < caller.attempt)


def stop_holder(cursor: Any, state: LeaseState, caller: Caller) -> Stopped:
    """When the holder ``caller`` may take over from (another run of its task) still locks the lease row: stop
    that run's work, up to the holder's try (``_stop_run``)."""
    return _stop_run(cursor, caller, str(state.run_key), lambda attempt: attempt <= (state.attempt or 0))


def _stop_run(cursor: Any, caller: Caller, run_key: str, tries: Callable[[int], bool]) -> Stopped:
    """Cancel the statements of ``run_key``'s ``tries`` that are still running and abort their sessions' open
    transactions, where Snowflake allows it (a user may cancel its own statements and abort its own
    transactions); never the caller's own.

    An optimisation: the fence already keeps those tries from committing anything once the caller holds the
    lease, and Snowflake aborts a disconnected session's statement (ABORT_DETACHED_QUERY) and, after five idle
    minutes, its blocking transaction. Stopping them now only saves that wait; whatever fails is logged.
    """
    stopped = Stopped()
    try:
        rows = sql_files.run_file(
            cursor, "exclusion/statements_of_run.sql", {"tag_prefix": f"{run_key}/try-", "query_tag": caller.query_tag}
        )
    except DatabaseError as exc:
        stopped.problems.append(f"query history: {exc}")
        _log_stopped(caller, stopped)
        return stopped
    theirs = [row for row in rows if (tried := _TRY.search(str(row[2]))) and tries(int(tried.group(1)))]
    sessions = {str(session) for _, session, _, _ in theirs}
    for query_id, _, _, status in theirs:
        if str(status).upper() in _UNFINISHED:
            try:
                cursor.execute("select system$cancel_query(%(query_id)s) as result", {"query_id": str(query_id)})
                stopped.cancelled.append(str(query_id))
            except DatabaseError as exc:
                stopped.problems.append(f"cancel {query_id}: {exc}")
    if sessions:
        try:
            cursor.execute("show transactions")
            columns = [d[0].lower() for d in cursor.description]
            open_transactions = [dict(zip(columns, row, strict=False)) for row in cursor.fetchall()]
        except DatabaseError as exc:
            stopped.problems.append(f"show transactions: {exc}")
            open_transactions = []
        for transaction in open_transactions:
            if str(transaction.get("session")) not in sessions:
                continue
            try:
                cursor.execute(
                    "select system$abort_transaction(%(transaction_id)s) as result",
                    {"transaction_id": int(transaction["id"])},
                )
                stopped.aborted.append(int(transaction["id"]))
            except DatabaseError as exc:
                stopped.problems.append(f"abort transaction {transaction['id']}: {exc}")
    _log_stopped(caller, stopped)
    return stopped


def _log_stopped(caller: Caller, stopped: Stopped) -> None:
    log.info(
        "%s: cancelled %d statement(s) and aborted %d transaction(s) of the lease's earlier holder",
        caller.who,
        len(stopped.cancelled),
        len(stopped.aborted),
    )
    for problem in stopped.problems:
        log.warning(
            "could not stop the lease's earlier holder's work (%s); the lease still fences it off, Snowflake "
            "aborts it in minutes",
            problem,
        )
