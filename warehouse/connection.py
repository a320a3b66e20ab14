"""Snowflake connections for code that runs outside an Airflow task (CLIs, the demo, benchmarks).

They come from the same Airflow connection the DAGs use (``AIRFLOW_CONN_SNOWFLAKE_DEFAULT`` in the
environment, or the metadata database), through the same hook, so there is one way to configure them.
"""

from __future__ import annotations

from typing import Any


def connect(conn_id: str | None = None) -> Any:
    from plugins.snowflake_hook import PipelineSnowflakeHook
    from warehouse.settings import load_settings

    hook = PipelineSnowflakeHook(snowflake_conn_id=conn_id or load_settings().connection_id)
    return hook.get_conn()
