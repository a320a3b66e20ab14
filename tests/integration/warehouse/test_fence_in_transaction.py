"""A mart's write on real Snowflake is fenced inside its own transaction (sql/macros/fenced_transaction.sql): the
fence's statements, as dbt renders them for a real target, run on the real connector against the emulator.

On Snowflake TO_NUMBER raises on a string that is no number (TRY_TO_NUMBER returns NULL instead)
(https://docs.snowflake.com/en/sql-reference/functions/to_decimal,
https://docs.snowflake.com/en/sql-reference/functions/try_to_decimal), with the value in the message, as in
"100038 (22018): Numeric value 'one' is not recognized" (https://github.com/Embucket/embucket-labs/issues/557);
so the run that lost the lease fails with "lost the pipeline's lease" in its error, which warehouse/transform.py
maps to exclusion.Fenced. A failed statement inside an explicit transaction leaves the transaction open with
that statement's changes undone; closing the session rolls it back, and a DDL statement commits it
(https://docs.snowflake.com/en/sql-reference/transactions): dbt-snowflake does not roll back after a
ProgrammingError, and closes its sessions when the build ends. The emulator runs the same conversion (its
message names the value too); the tests roll back, as the emulator wants after any error inside BEGIN.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from mobile_events_elt.warehouse import exclusion, setup
from tests.support.dbt import mart_writes
from tests.support.exclusion import elt_try
from tests.support.warehouse import prepare, settings_for

LEASE = "select token, renewed_at from raw.pipeline_lease where lease_name = 'pipeline'"


@pytest.fixture
def holder(snowflake_conn, snowflake_database) -> Iterator[tuple[Any, exclusion.Lease]]:
    """A database set up, whose lease a try of the ELT task holds."""
    prepare(snowflake_conn, settings_for(snowflake_database))
    lease = exclusion.acquire(snowflake_conn.cursor(), elt_try(1), setup.schema_version())
    yield snowflake_conn, lease
    exclusion.release(snowflake_conn.cursor(), lease)


def fence(token: str) -> list[str]:
    """The orders mart's lease update and lease assertion, as its write transaction runs them for ``token``."""
    begin, update, held, _dml, commit = mart_writes(lease_token=token)["orders"]
    assert (begin, commit) == ("begin;", "commit;")
    return [update, held]


def run_in_rolled_back_transaction(conn: Any, statements: list[str]) -> list[tuple[int, Any]]:
    """Each statement's row count and first value, inside begin ... rollback."""
    cursor = conn.cursor()
    cursor.execute("begin")
    try:
        results = []
        for statement in statements:
            cursor.execute(statement)
            row = cursor.fetchone() if cursor.description else None
            results.append((cursor.rowcount, None if row is None else row[0]))
        return results
    finally:
        cursor.execute("rollback")


def test_a_run_that_lost_the_lease_fails_inside_its_transaction_naming_it(holder) -> None:
    conn, lease = holder
    before = conn.cursor().execute(LEASE).fetchone()
    with pytest.raises(ProgrammingError, match="lost the pipeline's lease"):
        run_in_rolled_back_transaction(conn, fence("a-token-another-run-replaced"))
    assert conn.cursor().execute(LEASE).fetchone() == before
    assert before[0] == lease.token


def test_the_holders_fence_renews_the_lease_and_passes(holder) -> None:
    conn, lease = holder
    (updated, _), (_, held) = run_in_rolled_back_transaction(conn, fence(lease.token))
    assert (updated, int(held)) == (1, 1)
