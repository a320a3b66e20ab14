"""A SnowflakeHook that also honours the extras ``protocol`` and ``network_timeout``, and pins the session
parameters the pipeline relies on.

The stock hook drops ``protocol`` (so it cannot reach the emulator's http port) and cannot bound the
connector's retries; this subclass passes both when the connection sets them and is the stock hook otherwise.
Every session pins ``AUTOCOMMIT = TRUE`` (an account default of FALSE would leave writes uncommitted),
``ABORT_DETACHED_QUERY = TRUE`` (a killed task's statement is aborted instead of running on), the run's
``QUERY_TAG`` (so a retry can find its earlier tries' statements), and lock and statement timeouts. Each
connection gets its own copy of ``session_parameters``, because the connector writes the server's values into
the dict it is given.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

from warehouse.exclusion import QUERY_TAG_LIMIT


class PipelineSnowflakeHook(SnowflakeHook):
    hook_name = "Snowflake (pipeline)"

    def __init__(self, *args: Any, query_tag: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.query_tag = query_tag[:QUERY_TAG_LIMIT] if query_tag else None

    def _add_network_config(self, conn_config: dict[str, Any], extra_dict: dict[str, Any]) -> None:
        super()._add_network_config(conn_config, extra_dict)
        if protocol := extra_dict.get("protocol"):
            conn_config["protocol"] = protocol
        if timeout := extra_dict.get("network_timeout"):
            conn_config["network_timeout"] = int(timeout)

    def _get_conn_params(self) -> dict[str, Any]:
        params = dict(super()._get_conn_params())
        # A lock held by a dropped session's open transaction fails a statement after LOCK_TIMEOUT seconds
        # instead of stalling the retry; no statement runs unbounded. The connection's own values win.
        timeouts = {"LOCK_TIMEOUT": 120, "STATEMENT_TIMEOUT_IN_SECONDS": 3600}
        # What the pipeline's correctness rests on: nothing the account, user or connection says changes it.
        pinned: dict[str, Any] = {"AUTOCOMMIT": True, "ABORT_DETACHED_QUERY": True}
        if self.query_tag:
            pinned["QUERY_TAG"] = self.query_tag
        own = {
            name: value
            for name, value in (params.get("session_parameters") or {}).items()
            if str(name).upper() not in pinned  # parameter names are case-insensitive
        }
        params["session_parameters"] = {**timeouts, **own, **pinned}
        params["autocommit"] = True
        return params
