"""A SnowflakeHook that also honours the connection extras ``protocol`` and ``network_timeout``, and pins the
session parameters the pipeline relies on.

The stock ``SnowflakeHook`` (provider 6.20.0) passes the extras ``host`` and ``port`` to
the connector but not ``protocol``, so it speaks https to the local Snowflake emulator's http port; and
it gives no way to bound the connector's retries (``network_timeout``). This subclass copies both when
the connection sets them and changes nothing otherwise: against real Snowflake the extras are absent
and it behaves exactly as the stock hook. Configuration decides, never a branch in the pipeline.

Every session it opens sends, at login (https://docs.snowflake.com/en/sql-reference/parameters):

- ``AUTOCOMMIT = TRUE`` (and the connector's ``autocommit``), whatever the account, the user or the
  connection says: with FALSE, DDL commits the open transaction, a statement outside an explicit one stays
  uncommitted, and closing the session rolls it back;
- ``ABORT_DETACHED_QUERY = TRUE``: a statement whose client died (a killed task) is aborted five minutes
  after its connection is lost instead of running on (the default is FALSE);
- ``QUERY_TAG``, when given: the DAG run and try (or the CLI command) that runs the statements, so a retry
  can find and cancel its earlier tries' statements (the warehouse's exclusion);
- ``LOCK_TIMEOUT`` and ``STATEMENT_TIMEOUT_IN_SECONDS`` defaults, which the connection may change.

It also hands every connection its own copy of ``session_parameters``: the connector writes the
server's login parameters (AUTOCOMMIT among them) into the dict it is given, which is the hook's cached
copy, and from the second connection on ``run(autocommit=False)`` would silently autocommit.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

from mobile_events_elt.config.identifiers import QUERY_TAG_LIMIT


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
