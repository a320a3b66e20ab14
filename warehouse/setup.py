"""Create or update every Snowflake object the pipeline uses, in two parts run by different roles.

Account objects (``sql/setup/account/*.sql``) need an administrator on real Snowflake and run only with
``--account-objects``. The pipeline's own objects are versioned migrations (``sql/migrations/``), each applied
once, in order, by the pipeline's role while it holds the lease, after the database and schemas are looked up
(created only where missing, since ``CREATE ... IF NOT EXISTS`` needs the privilege even when they exist). A
migration edited after it was applied is refused. Steps on a real account: docs/production.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from snowflake.connector.errors import DatabaseError

from warehouse import contract, exclusion, sql_files, stage_access
from warehouse.identifiers import identifier
from warehouse.settings import WarehouseSettings
from warehouse.transactions import transaction

SCHEMAS = ("RAW", "ANALYTICS")
_MIGRATION_FILE = re.compile(r"V(\d{3})__([a-z0-9_]+)\.sql")


class SetupError(RuntimeError):
    """Setup cannot go on; the message says what an operator has to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    relative: str
    statements: tuple[str, ...]

    @property
    def checksum(self) -> str:
        """SHA-256 of the statements (comments and blank lines do not count)."""
        return hashlib.sha256("\n;\n".join(self.statements).encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"V{self.version:03d}__{self.name}"


def migrations() -> list[Migration]:
    """Every file of sql/migrations in version order; a misnamed file or a repeated version is an error."""
    found: dict[int, Migration] = {}
    for relative in sql_files.files("migrations"):
        file_name = relative.rsplit("/", 1)[-1]
        match = _MIGRATION_FILE.fullmatch(file_name)
        if not match:
            raise SetupError(f"sql/{relative}: a migration is named V<three digits>__<lowercase_name>.sql")
        version = int(match.group(1))
        if version in found:
            raise SetupError(f"sql/{relative}: version {version:03d} is also sql/{found[version].relative}")
        found[version] = Migration(version, match.group(2), relative, tuple(sql_files.statements(relative)))
    return [found[version] for version in sorted(found)]


def run_setup(
    conn: Any,
    settings: WarehouseSettings,
    account_variables: Mapping[str, str] | None = None,
    caller: exclusion.Caller | None = None,
    wait_seconds: float | None = None,
) -> list[str]:
    """Given account variables, run the account files (as an administrator); otherwise bring the pipeline's
    database up to date (as the pipeline role), holding the pipeline's lease, so no load or transform runs
    while a migration does. Return the files run."""
    cursor = conn.cursor()
    if account_variables is not None:
        return run_account_files(cursor, account_variables)
    ensure_database(cursor, settings.database)
    stage_access.check_external_stage(cursor, settings)
    known = migrations()
    recorded = _recorded(cursor, known, create=True)
    applied: list[str] = []
    if exclusion.LEASE_MIGRATION not in recorded:
        # A database from before the lease: the migrations up to the one that creates it run first, without
        # it. Loads and transforms of this code refuse the database meanwhile (its version is not theirs).
        applied = _apply(cursor, [m for m in known if m.version <= exclusion.LEASE_MIGRATION], recorded)
    with exclusion.held(conn, caller or exclusion.Caller.command("setup"), None, wait_seconds):
        applied += _apply(cursor, known, _recorded(cursor, known, create=False))
        contract.refresh(cursor, contract.fields())
    return applied


def schema_version() -> int:
    """The schema version this code expects: the newest migration's. Loads and transforms refuse a database
    that records another (``exclusion.SchemaVersionMismatch``)."""
    return migrations()[-1].version


def run_account_files(cursor: Any, variables: Mapping[str, str]) -> list[str]:
    ran = []
    for relative in sql_files.files("setup/account"):
        for stmt in sql_files.statements(relative, variables):
            cursor.execute(stmt)
        ran.append(relative)
    return ran


def ensure_database(cursor: Any, database: str) -> None:
    """Create the database and the RAW and ANALYTICS schemas only if a lookup does not find them; then use them."""
    database = identifier(database, "database")
    cursor.execute(f"show databases like '{database}'")
    column = [d[0].lower() for d in cursor.description].index("name")
    if not any(row[column].upper() == database.upper() for row in cursor.fetchall()):
        _create(cursor, f"create database if not exists {database}", f"database {database}")
    cursor.execute(f"use database {database}")
    cursor.execute("select schema_name from information_schema.schemata where schema_name in ('RAW', 'ANALYTICS')")
    present = {row[0].upper() for row in cursor.fetchall()}
    for schema in SCHEMAS:
        if schema not in present:
            _create(cursor, f"create schema if not exists {schema.lower()}", f"schema {database}.{schema}")
    cursor.execute("use schema raw")


def _create(cursor: Any, statement: str, what: str) -> None:
    try:
        cursor.execute(statement)
    except DatabaseError as exc:
        raise SetupError(
            f"{what} does not exist and this role may not create it ({exc.msg}): an administrator runs the account "
            "setup first (docs/production.md)"
        ) from exc


def _recorded(cursor: Any, known: list[Migration], create: bool) -> dict[int, tuple[str, str]]:
    """Version -> (name, checksum) of every recorded migration, refusing a database migrated by newer code or
    whose applied files changed since."""
    if create:
        sql_files.run_file(cursor, "setup/schema_migrations.sql")
    recorded = {
        int(version): (name, checksum)
        for version, name, checksum in cursor.execute(
            "select version, name, checksum from raw.schema_migrations"
        ).fetchall()
    }
    by_version = {m.version: m for m in known}
    for version, (name, checksum) in sorted(recorded.items()):
        migration = by_version.get(version)
        if migration is None:
            raise SetupError(
                f"raw.schema_migrations records V{version:03d}__{name}, which sql/migrations does not have: this "
                "database was migrated by a newer version of the pipeline; deploy that version"
            )
        if migration.checksum != checksum:
            raise SetupError(
                f"sql/{migration.relative} changed after it was applied (recorded checksum {checksum}, file "
                f"{migration.checksum}): put the change in a new migration and restore the applied file"
            )
    return recorded


def _apply(cursor: Any, candidates: list[Migration], recorded: Mapping[int, Any]) -> list[str]:
    """Run each candidate not recorded, in order, and record it. Under the lease, each migration first renews
    it and is recorded in a transaction that re-validates it: a setup that was fenced off records nothing."""
    applied: list[str] = []
    for migration in candidates:
        if migration.version in recorded:
            continue
        exclusion.fence(cursor)
        for number, stmt in enumerate(migration.statements, start=1):
            try:
                cursor.execute(stmt)
            except DatabaseError as exc:
                raise SetupError(f"sql/{migration.relative}, statement {number}: {exc}") from exc
        with transaction(cursor):
            sql_files.run_file(
                cursor,
                "setup/record_migration.sql",
                {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
            )
        applied.append(migration.relative)
    return applied
