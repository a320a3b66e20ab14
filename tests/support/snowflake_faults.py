"""Dropped sessions: a connection to the Snowflake emulator that drops at a chosen statement, and a dbt build
whose own session drops at a chosen model; shared by the fault and bounded-work tests."""

from __future__ import annotations

from typing import Any

import pytest
from snowflake.connector.errors import OperationalError

from mobile_events_elt.warehouse import dbt_runner


class DroppingConnection:
    """Passes everything to a real connection, but fails statement number ``fail_at`` (1-based)."""

    def __init__(self, real: Any, fail_at: int, when: str = "") -> None:
        self.real, self.fail_at, self.when, self.count = real, fail_at, when, 0

    def cursor(self) -> DroppingCursor:
        return DroppingCursor(self, self.real.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


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


def drop_dbt_session_at(monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    """The next dbt build's session drops when it reaches ``model``: the models before it wrote, it and those
    after it did not (dbt runs in its own session, which DroppingConnection does not see)."""
    real = dbt_runner.invoke

    def invoke(target: Any, args: Any, variables: Any = None, on_log: Any = None) -> Any:
        if list(args[:1]) != ["build"]:
            return real(target, args, variables, on_log)
        monkeypatch.setattr(dbt_runner, "invoke", real)
        real(target, [*args, "--exclude", f"{model}+"], variables, on_log)
        raise OperationalError(msg="injected: connection reset by peer", errno=251011)

    monkeypatch.setattr(dbt_runner, "invoke", invoke)
