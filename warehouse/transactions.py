"""One explicit transaction on a cursor: everything in the block commits together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mobile_events_elt.warehouse import exclusion


@contextmanager
def transaction(cursor: Any) -> Iterator[Any]:
    """``begin``, run the block, ``commit``; any exception (KeyboardInterrupt included) rolls back and re-raises.

    Explicit statements rather than the connector's autocommit switch, so the same code holds on a
    connection whatever its AUTOCOMMIT setting (Snowflake's default is on). While the pipeline's lease is
    held (``exclusion.held``), the transaction first re-validates it, so a writer that was fenced off
    writes nothing.
    """
    cursor.execute("begin")
    try:
        exclusion.fence(cursor)
        yield cursor
        cursor.execute("commit")
    except BaseException:
        cursor.execute("rollback")
        raise
