"""Create or update every Snowflake object the pipeline uses. Idempotent: a second run changes nothing.

``sql/setup/*.sql`` run everywhere, the local emulator included. ``sql/setup/account/*.sql`` create
account-level objects (warehouse, role, grants, storage integration, external stage) that only real
Snowflake can run; they run when asked for (``--account-objects``) with their ``&{name}`` variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import config
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
    refresh_accepted_values(cursor, accepted_values())
    return ran


# The fields sql/transform/01_stg_events.sql checks against raw.accepted_values.
CHECKED_FIELDS = (
    "INITIAL_EVENT",
    "EVENT_2",
    "EVENT_3",
    "EVENT_OUT",
    "OS_USER",
    "CITY",
    "ORDER_TYPE",
    "STATUS",
    "PAYMENT_METHOD",
)


def accepted_values() -> dict[str, list[str]]:
    """config/accepted_values.json: field -> accepted values (keys starting with _ are comments)."""
    raw = config.load("accepted_values")
    where = config.config_dir() / "accepted_values.json"
    missing = [field for field in CHECKED_FIELDS if field not in raw]
    if missing:
        raise config.ConfigError(f"{where}: missing field(s) {', '.join(missing)}; each needs its accepted values")
    values = {}
    for field, accepted in raw.items():
        if field.startswith("_"):
            continue
        if not isinstance(accepted, list) or not all(isinstance(v, str) for v in accepted):
            raise config.ConfigError(f"{where}: field {field!r} must be a list of strings")
        values[identifier(field, "field name")] = accepted
    return values


def refresh_accepted_values(cursor: Any, values: dict[str, list[str]]) -> None:
    """Replace raw.accepted_values with the configured sets, atomically."""
    rows = [(field, value) for field, accepted in values.items() for value in accepted]
    cursor.execute("begin")
    try:
        cursor.execute("delete from raw.accepted_values")
        cursor.executemany("insert into raw.accepted_values (field, value) values (%s, %s)", rows)
        cursor.execute("commit")
    except BaseException:
        cursor.execute("rollback")
        raise
