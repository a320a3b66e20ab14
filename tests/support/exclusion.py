"""An ELT task's try as the exclusion sees it, and an Airflow connection given in the environment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from warehouse import exclusion

RUN = "manual__2026-03-01T10:00:00+00:00"


def elt_try(number: int, run: str = RUN) -> exclusion.Caller:
    return exclusion.Caller.task("mobile_events_elt", run, "load_transform_check", number)


def airflow_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, server: dict[str, Any], **extra: Any) -> None:
    fields = {k: v for k, v in server.items() if k not in ("user", "password")}
    connection = {"conn_type": "snowflake", "login": "local", "password": server.get("password", "p")}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**connection, "extra": {**fields, **extra}}))
