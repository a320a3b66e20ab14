"""A connection to the Snowflake emulator that drops at a chosen statement; shared by the fault and
bounded-work tests."""

from __future__ import annotations

from typing import Any

from snowflake.connector.errors import OperationalError


class DroppingConnection:
    """Passes everything to a real connection, but fails statement number ``fail_at`` (1-based)."""

    def __init__(self, real: Any, fail_at: int, when: str = "") -> None:
        self.real, self.fail_at, self.when, self.count = real, fail_at, when, 0

    def cursor(self) -> DroppingCursor:
        return DroppingCursor(self, self.real.cursor())


class DroppingCursor:
    def __init__(self, owner: DroppingConnection, real: Any) -> None:
        self.owner, self.real = owner, real

    def execute(self, sql: str, params: Any = None) -> Any:
        if self.owner.when in sql.lower():
            self.owner.count += 1
            if self.owner.count == self.owner.fail_at:
                # A dropped connection: whatever this session had open is gone with it.
                self.real.execute("rollback")
                raise OperationalError(msg="injected: connection reset by peer", errno=251011)
        self.real.execute(sql, params)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)
