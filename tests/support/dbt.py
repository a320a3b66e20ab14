"""The dbt project compiled for a real Snowflake target, without connecting to one: what Snowflake would run."""

from __future__ import annotations

import functools

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
