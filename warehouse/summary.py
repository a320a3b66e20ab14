"""Row counts per table: what a person wants to see after a run."""

from __future__ import annotations

from typing import Any

TABLES = [
    "raw.events_raw",
    "raw.rejected_events",
    "analytics.users",
    "analytics.events",
    "analytics.orders",
    "analytics.purchase_counts",
]


def table_counts(conn: Any) -> dict[str, int]:
    cursor = conn.cursor()
    # Table names are the constants above, never input.
    sql = "select count(*) as n from {}"
    return {table: int(cursor.execute(sql.format(table)).fetchone()[0]) for table in TABLES}
