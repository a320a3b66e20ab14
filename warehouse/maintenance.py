"""Operations on history: a full rebuild of the analytics tables, and a replay of delivered files.

Both leave the real work to the next ordinary run (load, then transform), so they share its
guarantees: MERGEs keyed on each event's id mean nothing is counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warehouse import loader, sql_files
from warehouse.transactions import transaction


def _in_transaction(cursor: Any, relative: str, params: dict[str, Any] | None = None) -> None:
    with transaction(cursor):
        sql_files.run_file(cursor, relative, params)


def rebuild(conn: Any) -> None:
    """Empty the analytics tables and mark every loaded file untransformed (atomically)."""
    _in_transaction(conn.cursor(), "maintenance/rebuild.sql")


def replay(conn: Any, s3: Any, bucket: str, prefix: str, since: datetime, until: datetime) -> list[loader.LandedFile]:
    """Forget the files S3 received in [since, until) so the next load run loads them again; return them."""
    chosen = [
        f
        for f in loader.list_landed_files(s3, bucket, prefix, with_times=True)
        if f.last_modified is not None and since <= f.last_modified < until
    ]
    cursor = conn.cursor()
    for landed in chosen:
        _in_transaction(cursor, "maintenance/forget_file.sql", {"file_name": landed.key})
    return chosen
