"""Create or update every Snowflake object the pipeline uses. Idempotent: a second run changes nothing.

``sql/setup/*.sql`` run everywhere, the local emulator included. ``sql/setup/account/*.sql`` create
account-level objects (warehouse, role, grants, storage integration, external stage) that only real
Snowflake can run; they run when asked for (``--account-objects``) with their ``&{name}`` variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warehouse import sql_files
from warehouse.identifiers import identifier
from warehouse.settings import WarehouseSettings


def create_database(cursor: Any, settings: WarehouseSettings) -> None:
    cursor.execute(f"create database if not exists {identifier(settings.database, 'database')}")
    cursor.execute(f"use database {settings.database}")
    cursor.execute("create schema if not exists raw")
    cursor.execute("use schema raw")


def run_setup(conn: Any, settings: WarehouseSettings, account_variables: Mapping[str, str] | None = None) -> list[str]:
    """Run the setup files in order; return the names of the files run."""
    cursor = conn.cursor()
    ran = []
    if account_variables is not None:
        for relative in sql_files.files("setup/account"):
            for stmt in sql_files.statements(relative, account_variables):
                cursor.execute(stmt)
            ran.append(relative)
    create_database(cursor, settings)
    for relative in sql_files.files("setup"):
        sql_files.run_file(cursor, relative)
        ran.append(relative)
    return ran
