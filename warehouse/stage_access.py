"""In external stage mode, setup proves the pipeline role can read its external stage before any migration runs.

LIST on an external stage needs USAGE on the stage (https://docs.snowflake.com/en/sql-reference/sql/list), and
Snowflake must be able to list the landing folder through the stage's storage integration (the AWS role's
trust and its s3:ListBucket); COPY from that stage also needs USAGE on the integration
(https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, "Access control requirements"), which the
account setup grants. Setup LISTs one path of the stage as the pipeline role, so a missing privilege fails
setup with a message naming it and the role, not the first load. The path is one no delivery writes to:
a path scopes LIST to that prefix, so the check costs the same however many files the folder holds. The
internal stage mode (the local stack) has no external stage to check.
"""

from __future__ import annotations

from typing import Any

from snowflake.connector.errors import DatabaseError

from warehouse.identifiers import qualified_name
from warehouse.settings import WarehouseSettings

PROBE_PATH = "setup_access_check/"
# Snowflake's codes: an object the role may not see at all, and a privilege the role lacks on one it sees.
NOT_FOUND_OR_NOT_AUTHORIZED = 2003
INSUFFICIENT_PRIVILEGES = 3001


def check_external_stage(cursor: Any, settings: WarehouseSettings) -> None:
    """LIST a path of the external stage as the session's role; raise SetupError naming what is missing."""
    if settings.stage_mode != "external":
        return
    stage = qualified_name(settings.external_stage, "stage")
    role = cursor.execute("select current_role() as role").fetchone()[0]
    try:
        cursor.execute(f"list @{stage}/{PROBE_PATH}")
    except DatabaseError as exc:
        from warehouse.setup import SetupError  # setup imports this module

        raise SetupError(explain(stage, role, exc)) from exc


def explain(stage: str, role: str, exc: DatabaseError) -> str:
    """What the failed LIST means and who fixes it, with Snowflake's own code and message."""
    message = " ".join(str(exc.msg or exc).split())
    cause = f"{exc.errno:06d}: {message}" if isinstance(exc.errno, int) else message
    head = f"setup, as role {role}, cannot LIST @{stage}, the external stage every load reads ({cause})"
    where = "an administrator grants it (docs/production.md, step 4; "
    where += "sql/setup/account/03_external_stage.sql) and setup runs again"
    if exc.errno == NOT_FOUND_OR_NOT_AUTHORIZED:
        return f"{head}: role {role} needs USAGE on stage {stage}, which must exist; {where}"
    if exc.errno == INSUFFICIENT_PRIVILEGES and "integration" in message.lower():
        return f"{head}: role {role} needs USAGE on the stage's storage integration; {where}"
    if exc.errno == INSUFFICIENT_PRIVILEGES:
        return f"{head}: role {role} needs USAGE on stage {stage} and on its storage integration; {where}"
    return (
        f"{head}: Snowflake could not list the landing folder through the storage integration; the "
        "integration's AWS role must trust Snowflake and may list and read the landing folder (docs/production.md, "
        "step 5), then setup runs again"
    )
