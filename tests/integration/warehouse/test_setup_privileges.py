"""Setup as the pipeline role, with Snowflake's privilege checks injected around the real connector.

fakesnow has no roles or grants, so it lets any session create anything. On Snowflake the pipeline role
(sql/setup/account/02_pipeline_role.sql) has USAGE and the CREATE privileges its migrations need on the RAW
and ANALYTICS schemas (owned by SYSADMIN) and only USAGE on the database: it may create tables, views,
stages and file formats in its schemas, but neither a database (CREATE DATABASE is an account privilege)
nor a schema (CREATE SCHEMA on the database). And
``CREATE ... IF NOT EXISTS`` is checked against the privilege before Snowflake looks at whether the object
exists, so an existing database does not excuse the statement. Snowflake then raises
``003001 (42501): SQL access control error: Insufficient privileges to operate on <kind> '<name>'``.
Docs: https://docs.snowflake.com/en/user-guide/security-access-control-privileges (CREATE DATABASE on
the account, CREATE SCHEMA on a database), https://docs.snowflake.com/en/sql-reference/sql/create-database
and https://docs.snowflake.com/en/sql-reference/sql/create-schema ("Access control requirements").
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from tests.support.warehouse import settings_for
from warehouse import setup, stage_access

_FORBIDDEN = {
    "database": re.compile(r"^\s*create\s+(or\s+replace\s+)?database\b", re.IGNORECASE),
    "schema": re.compile(r"^\s*create\s+(or\s+replace\s+)?(transient\s+)?schema\b", re.IGNORECASE),
}


ROLE = "MOBILE_EVENTS_LOADER"
_LIST = re.compile(r"^\s*list\s+@", re.IGNORECASE)


class PipelineRoleCursor:
    """The real connector's cursor, raising what Snowflake raises for a CREATE the pipeline role may not run,
    and answering CURRENT_ROLE() and a LIST of a path of the external stage as Snowflake does."""

    def __init__(
        self, cursor: Any, database: str, issued: list[str], list_error: ProgrammingError | None = None
    ) -> None:
        self._cursor = cursor
        self._database = database
        self._issued = issued
        self._list_error = list_error

    def execute(self, statement: str, params: Any = None) -> Any:
        self._issued.append(statement)
        if "current_role()" in statement.lower():
            self._cursor.execute(f"select '{ROLE}' as role")
            return self
        if _LIST.match(statement):
            if self._list_error is not None:
                raise self._list_error
            # Snowflake's LIST columns, no row: nothing is under the path.
            self._cursor.execute("select 'x' as name, 0 as size, 'x' as md5, 'x' as last_modified where 1 = 0")
            return self
        if _FORBIDDEN["database"].match(statement):
            raise ProgrammingError(
                msg="SQL access control error:\nInsufficient privileges to operate on account 'XY12345'",
                errno=3001,
                sqlstate="42501",
            )
        if _FORBIDDEN["schema"].match(statement):
            raise ProgrammingError(
                msg=f"SQL access control error:\nInsufficient privileges to operate on database '{self._database}'",
                errno=3001,
                sqlstate="42501",
            )
        self._cursor.execute(statement, params)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class PipelineRoleConnection:
    def __init__(self, conn: Any, database: str, list_error: ProgrammingError | None = None) -> None:
        self._conn = conn
        self._database = database
        self._list_error = list_error
        self.issued: list[str] = []

    def cursor(self) -> PipelineRoleCursor:
        return PipelineRoleCursor(self._conn.cursor(), self._database, self.issued, self._list_error)


def administrator_creates_schemas(conn: Any, database: str, schemas: tuple[str, ...] = ("raw", "analytics")) -> None:
    """What sql/setup/account/01_warehouse_database.sql does (as SYSADMIN) before the pipeline's first setup."""
    cursor = conn.cursor()
    cursor.execute(f"create database if not exists {database}")
    for schema in schemas:
        cursor.execute(f"create schema if not exists {database}.{schema}")


def test_pipeline_role_setup_creates_no_database_or_schema_that_exists(snowflake_conn, snowflake_database) -> None:
    administrator_creates_schemas(snowflake_conn, snowflake_database)
    pipeline = PipelineRoleConnection(snowflake_conn, snowflake_database)

    applied = setup.run_setup(pipeline, settings_for(snowflake_database))

    assert applied == [m.relative for m in setup.migrations()]
    assert not [s for s in pipeline.issued if _FORBIDDEN["database"].match(s) or _FORBIDDEN["schema"].match(s)]
    assert not [s for s in pipeline.issued if _LIST.match(s)], "internal stage mode has no external stage to check"
    # A second run, as the DAG runs after every deployment, creates nothing but (if not there) the table
    # that records migrations, in the schema the role owns.
    pipeline.issued.clear()
    assert setup.run_setup(pipeline, settings_for(snowflake_database)) == []
    creates = [s for s in pipeline.issued if re.match(r"\s*create\b", s, re.IGNORECASE)]
    assert [s.split("(")[0].strip() for s in creates] == ["create table if not exists raw.schema_migrations"]


def test_a_missing_schema_is_an_error_naming_the_account_setup(snowflake_conn, snowflake_database) -> None:
    administrator_creates_schemas(snowflake_conn, snowflake_database, schemas=("raw",))
    pipeline = PipelineRoleConnection(snowflake_conn, snowflake_database)

    with pytest.raises(setup.SetupError, match=r"(?s)schema \w+\.ANALYTICS does not exist.*account setup") as caught:
        setup.run_setup(pipeline, settings_for(snowflake_database))
    assert isinstance(caught.value.__cause__, ProgrammingError)
    assert caught.value.__cause__.errno == 3001 and caught.value.__cause__.sqlstate == "42501"


def test_a_missing_database_is_an_error_naming_the_account_setup(snowflake_server) -> None:
    import snowflake.connector

    conn = snowflake.connector.connect(**snowflake_server)
    try:
        pipeline = PipelineRoleConnection(conn, "NEVER_CREATED")
        with pytest.raises(setup.SetupError, match=r"(?s)database NEVER_CREATED does not exist.*account setup"):
            setup.run_setup(pipeline, settings_for("NEVER_CREATED"))
    finally:
        conn.close()


def test_on_the_local_stack_setup_creates_the_database_and_schemas(snowflake_server) -> None:
    """The emulator's session may create everything: the same lookups find nothing and create it all."""
    import uuid

    import snowflake.connector

    database = f"TEST_{uuid.uuid4().hex[:12].upper()}"
    conn = snowflake.connector.connect(**snowflake_server)
    try:
        applied = setup.run_setup(conn, settings_for(database))
        assert applied[0] == "migrations/V001__baseline.sql"
        schemas = conn.cursor().execute("select schema_name from information_schema.schemata").fetchall()
        assert {"RAW", "ANALYTICS"} <= {row[0].upper() for row in schemas}
    finally:
        conn.close()


def external(database: str) -> Any:
    return dataclasses.replace(settings_for(database), stage_mode="external")


def test_in_external_stage_mode_setup_lists_the_external_stage_before_any_migration(
    snowflake_conn, snowflake_database
) -> None:
    administrator_creates_schemas(snowflake_conn, snowflake_database)
    pipeline = PipelineRoleConnection(snowflake_conn, snowflake_database)

    applied = setup.run_setup(pipeline, external(snowflake_database))

    assert applied == [m.relative for m in setup.migrations()]
    lists = [i for i, s in enumerate(pipeline.issued) if _LIST.match(s)]
    assert [pipeline.issued[i] for i in lists] == [f"list @RAW.LANDING_S3/{stage_access.PROBE_PATH}"]
    first_migration = next(i for i, s in enumerate(pipeline.issued) if "schema_migrations" in s)
    assert lists[0] < first_migration


@pytest.mark.parametrize(
    ("errno", "sqlstate", "message", "names"),
    [
        (
            2003,
            "02000",
            "SQL compilation error:\nStage 'MOBILE_EVENTS.RAW.LANDING_S3' does not exist or not authorized.",
            "needs USAGE on stage RAW.LANDING_S3",
        ),
        (
            3001,
            "42501",
            "SQL access control error:\nInsufficient privileges to operate on integration 'MOBILE_EVENTS_S3'",
            "needs USAGE on the stage's storage integration",
        ),
        (
            3001,
            "42501",
            "SQL access control error:\nInsufficient privileges to operate on stage 'LANDING_S3'",
            "needs USAGE on stage RAW.LANDING_S3 and on its storage integration",
        ),
        (
            91003,
            "22000",
            "Failure using stage area. Cause: [Access Denied (Status Code: 403; Error Code: AccessDenied)]",
            "integration's AWS role must trust Snowflake",
        ),
    ],
)
def test_a_missing_privilege_on_the_external_stage_fails_setup_naming_it_and_the_role(
    snowflake_conn, snowflake_database, errno: int, sqlstate: str, message: str, names: str
) -> None:
    """Setup fails before any migration, with a message an administrator can act on, not the first load."""
    administrator_creates_schemas(snowflake_conn, snowflake_database)
    refused = ProgrammingError(msg=message, errno=errno, sqlstate=sqlstate)
    pipeline = PipelineRoleConnection(snowflake_conn, snowflake_database, list_error=refused)

    with pytest.raises(setup.SetupError) as caught:
        setup.run_setup(pipeline, external(snowflake_database))

    text = str(caught.value)
    assert f"as role {ROLE}, cannot LIST @RAW.LANDING_S3" in text and names in text
    assert f"{errno:06d}" in text and "\n" not in text
    assert caught.value.__cause__ is refused
    assert not [s for s in pipeline.issued if "schema_migrations" in s], "no migration ran"
