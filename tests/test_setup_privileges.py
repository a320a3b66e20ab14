"""Setup as the pipeline role, with Snowflake's privilege checks injected around the real connector.

fakesnow has no roles or grants, so it lets any session create anything. On Snowflake the pipeline role
(sql/setup/account/02_pipeline_role.sql) owns the RAW and ANALYTICS schemas and has only USAGE on the
database: it may create tables, views, stages and file formats in its schemas, but neither a database
(CREATE DATABASE is an account privilege) nor a schema (CREATE SCHEMA on the database). And
``CREATE ... IF NOT EXISTS`` is checked against the privilege before Snowflake looks at whether the object
exists, so an existing database does not excuse the statement. Snowflake then raises
``003001 (42501): SQL access control error: Insufficient privileges to operate on <kind> '<name>'``.
Docs: https://docs.snowflake.com/en/user-guide/security-access-control-privileges (CREATE DATABASE on
the account, CREATE SCHEMA on a database), https://docs.snowflake.com/en/sql-reference/sql/create-database
and https://docs.snowflake.com/en/sql-reference/sql/create-schema ("Access control requirements").
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from tests.warehouse_helpers import settings_for
from warehouse import setup

_FORBIDDEN = {
    "database": re.compile(r"^\s*create\s+(or\s+replace\s+)?database\b", re.IGNORECASE),
    "schema": re.compile(r"^\s*create\s+(or\s+replace\s+)?(transient\s+)?schema\b", re.IGNORECASE),
}


class PipelineRoleCursor:
    """The real connector's cursor, raising what Snowflake raises for a CREATE the pipeline role may not run."""

    def __init__(self, cursor: Any, database: str, issued: list[str]) -> None:
        self._cursor = cursor
        self._database = database
        self._issued = issued

    def execute(self, statement: str, params: Any = None) -> Any:
        self._issued.append(statement)
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
    def __init__(self, conn: Any, database: str) -> None:
        self._conn = conn
        self._database = database
        self.issued: list[str] = []

    def cursor(self) -> PipelineRoleCursor:
        return PipelineRoleCursor(self._conn.cursor(), self._database, self.issued)


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
