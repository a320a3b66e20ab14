"""Operations on history: a full rebuild of the analytics tables, and a replay of delivered files.

Both leave the real work to the next ordinary run (load, then transform), so they share its
guarantees: the models are keyed on each event's id, so nothing is counted twice. Both keep the
transform queue (``raw.transform_queue``) in step with the audit: a rebuild queues every loaded file
again, a replay takes its files off the queue with their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mobile_events_elt.warehouse import loader, sql_files
from mobile_events_elt.warehouse.transactions import transaction


def rebuild(conn: Any) -> None:
    """Empty the analytics tables and queue every loaded file for the transforms again (atomically)."""
    cursor = conn.cursor()
    with transaction(cursor):
        sql_files.run_file(cursor, "maintenance/rebuild.sql")


def replay(conn: Any, s3: Any, bucket: str, prefix: str, since: datetime, until: datetime) -> list[loader.LandedFile]:
    """Forget the files S3 received in [since, until) so the next load run loads them again; return them."""
    chosen = [
        f
        for f in loader.list_landed_files(s3, bucket, prefix, with_times=True)
        if f.last_modified is not None and since <= f.last_modified < until
    ]
    forget(conn, [landed.key for landed in chosen])
    return chosen


def forget(conn: Any, keys: Sequence[str]) -> None:
    """Forget these delivered files (raw rows, queue and audit rows) in one transaction, one statement per
    table for all of them, so the next load run loads them again."""
    if not keys:
        return
    cursor = conn.cursor()
    sql_files.run_file(cursor, "maintenance/forgotten_files.sql")
    with transaction(cursor):
        cursor.execute("delete from forgotten_files")
        cursor.executemany("insert into forgotten_files (file_name) values (%s)", [(key,) for key in keys])
        sql_files.run_file(cursor, "maintenance/forget_files.sql")
