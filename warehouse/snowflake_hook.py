"""A SnowflakeHook that also honours the connection extras ``protocol`` and ``network_timeout``.

The stock ``SnowflakeHook`` (provider 6.20.0) passes the extras ``host`` and ``port`` to
the connector but not ``protocol``, so it speaks https to the local Snowflake emulator's http port; and
it gives no way to bound the connector's retries (``network_timeout``). This subclass copies both when
the connection sets them and changes nothing otherwise: against real Snowflake the extras are absent
and it behaves exactly as the stock hook. Configuration decides, never a branch in the pipeline.

It also hands every connection its own copy of ``session_parameters``: the connector writes the
server's login parameters (AUTOCOMMIT among them) into the dict it is given, which is the hook's cached
copy, and from the second connection on ``run(autocommit=False)`` would silently autocommit.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook


class PipelineSnowflakeHook(SnowflakeHook):
    hook_name = "Snowflake (pipeline)"

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
        params["session_parameters"] = {**timeouts, **(params.get("session_parameters") or {})}
        return params
