"""The health page and the static report read through a connection of their own, and the report is private.

``config.connections().snowflake_read``: ``ELT_SNOWFLAKE_READ_CONN_ID``, else snowflake.json's
``read_connection_id``, else the pipeline's own connection id (so a deployment that sets neither is unchanged).
Readings bound each statement (STATEMENT_TIMEOUT_IN_SECONDS) and the connector's waits (network_timeout).
``python -m warehouse report --out DIR`` leaves DIR 0700 and its pages 0600 whatever the umask, as the rest
of the stack's state (tests/unit/local_stack/test_security_private_state.py).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import config
from tests.support.paths import mode
from warehouse import __main__ as cli

REPO = Path(__file__).resolve().parents[3]


def edit(folder: Path, **fields: object) -> None:
    data = json.loads((folder / "snowflake.json").read_text())
    (folder / "snowflake.json").write_text(json.dumps({**data, **fields}))


def test_the_read_connection_is_the_environments_else_the_files_else_the_pipelines(
    config_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config.connections().snowflake_read == config.connections().snowflake == "snowflake_default"
    monkeypatch.setenv("ELT_SNOWFLAKE_CONN_ID", "snowflake_prod")
    assert config.connections().snowflake_read == "snowflake_prod"  # nothing set: the pipeline's own
    with_reader = shutil.copytree(config_copy, config_copy.parent / "with_reader")  # files are read once per path
    edit(with_reader, read_connection_id="snowflake_reader")
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(with_reader))
    assert config.settings().connections.snowflake_read == "snowflake_reader"
    monkeypatch.setenv("ELT_SNOWFLAKE_READ_CONN_ID", "snowflake_reader_env")
    connections = config.settings().connections
    assert (connections.snowflake_read, connections.snowflake) == ("snowflake_reader_env", "snowflake_prod")


def test_an_empty_read_connection_id_is_named_with_its_field(config_copy: Path) -> None:
    edit(config_copy, read_connection_id="")
    with pytest.raises(config.ConfigError) as caught:
        config.settings()
    expected = f"{config_copy / 'snowflake.json'}: field 'read_connection_id': an Airflow connection id (got '')"
    assert str(caught.value) == expected


def test_the_report_refuses_a_shared_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1700)  # the sticky bit, as /tmp has (0o1777)
    assert cli.main(["report", "--out", str(shared)]) == 2
    assert "shared folder" in capsys.readouterr().err
    assert list(shared.iterdir()) == [] and mode(shared) == 0o1700, "the shared folder was changed"
