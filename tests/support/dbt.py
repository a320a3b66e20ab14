"""The dbt project compiled for a real Snowflake target, without connecting to one: what Snowflake would run."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from io import StringIO
from typing import Any

from snowflake.connector.util_text import split_statements

from mobile_events_elt.warehouse import dbt_runner

# A real Snowflake account's target: never connected to (compiling without introspection needs no session).
REAL_TARGET = dbt_runner.Target(
    name="snowflake", account="example-account", user="nobody", password="unused", database="MOBILE_EVENTS"
)
OFFLINE = ["--no-populate-cache", "--no-introspect", "--indirect-selection", "empty"]


@functools.cache
def compiled(*selected: str) -> dict[str, str]:
    """Each selected model's SQL as dbt compiles it for a real Snowflake target."""
    nodes = dbt_runner.invoke(REAL_TARGET, ["compile", *OFFLINE, "--select", *selected])
    return {node.node: node.compiled for node in nodes}


def staging_sql() -> str:
    """The batch's typing, validation and dedup, compiled (the staging model is a CTE of it)."""
    return compiled("int_events_validated")["int_events_validated"]


def mart_writes(target: dbt_runner.Target = REAL_TARGET, **variables: Any) -> dict[str, list[str]]:
    """Each mart's incremental write as its strategy renders it for ``target`` and dbt ``variables``
    (sql/macros/rendered_mart_writes.sql), split into statements as dbt-snowflake splits them before it runs
    each (the connector's ``split_statements``), comments dropped; never connects."""
    lines: list[str] = []
    dbt_runner.invoke(target, ["run-operation", "rendered_mart_writes"], variables=variables, on_log=lines.append)
    rendered: Mapping[str, str] = {mart: json.loads(sql) for mart, sql in (line.split(": ", 1) for line in lines)}
    return {mart: statements(sql) for mart, sql in rendered.items()}


def statements(sql: str) -> list[str]:
    """``sql``'s statements, each stripped and ending in ``;`` where it was written with one."""
    return [text.strip() for text, _ in split_statements(StringIO(sql), remove_comments=True) if text.strip()]
