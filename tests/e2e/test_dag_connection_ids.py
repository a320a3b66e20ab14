"""The DAGs take their connection ids from the settings: the file's, or the environment's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.paths import REPO


def test_dags_take_their_connection_ids_from_the_settings(config_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The setup and replay DAGs read ``config.connections()``: the file's connection id, or the environment's."""
    import runpy

    data = json.loads((config_copy / "snowflake.json").read_text())
    (config_copy / "snowflake.json").write_text(json.dumps({**data, "connection_id": "from_file"}))
    assert runpy.run_path(str(REPO / "dags" / "snowflake_setup.py"))["SNOWFLAKE_CONN_ID"] == "from_file"
    monkeypatch.setenv("ELT_SNOWFLAKE_CONN_ID", "snowflake_prod")
    monkeypatch.setenv("ELT_AWS_CONN_ID", "aws_prod")
    assert runpy.run_path(str(REPO / "dags" / "snowflake_setup.py"))["SNOWFLAKE_CONN_ID"] == "snowflake_prod"
    replay = runpy.run_path(str(REPO / "dags" / "mobile_events_replay.py"))["CONNECTIONS"]
    assert (replay.snowflake, replay.aws) == ("snowflake_prod", "aws_prod")
