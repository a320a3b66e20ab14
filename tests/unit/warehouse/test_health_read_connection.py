"""The health page and the static report read through a connection of their own, and the report is private.

``config.connections().snowflake_read``: ``ELT_SNOWFLAKE_READ_CONN_ID``, else snowflake.json's
``read_connection_id``, else the pipeline's own connection id (so a deployment that sets neither is unchanged).
Readings bound each statement (STATEMENT_TIMEOUT_IN_SECONDS) and the connector's waits (network_timeout).
``python -m warehouse report --out DIR`` leaves DIR 0700 and its pages 0600 whatever the umask, as the rest
of the stack's state (tests/test_security_private_state.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import config
from tests.support.warehouse import prepare, settings_for
from warehouse import __main__ as cli
from warehouse import health, report

REPO = Path(__file__).resolve().parents[3]
READ_CONN = "snowflake_health_read"


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(folder))
    for name in ("ELT_SNOWFLAKE_CONN_ID", "ELT_SNOWFLAKE_READ_CONN_ID", "SNOWFLAKE_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    return folder


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


@pytest.fixture
def read_only_deployment(
    aws_endpoint: str,
    snowflake_server: dict[str, object],
    snowflake_conn: object,
    snowflake_database: str,
    config_copy: Path,
) -> Iterator[str]:
    """A prepared database reachable only through the read connection: the pipeline's connection id names
    no connection at all, so anything read through it fails. (S3 is the emulator's, empty.)"""
    prepare(snowflake_conn, settings_for(snowflake_database))
    server = {k: v for k, v in snowflake_server.items() if k not in ("user", "password")}
    connection = {
        "conn_type": "snowflake",
        "login": snowflake_server["user"],
        "password": snowflake_server["password"],
        "extra": {**server, "network_timeout": 600},  # longer than a reading may wait: bounded below
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(f"AIRFLOW_CONN_{READ_CONN.upper()}", json.dumps(connection))
        patch.setenv("ELT_SNOWFLAKE_READ_CONN_ID", READ_CONN)
        patch.setenv("ELT_SNOWFLAKE_CONN_ID", "snowflake_nowhere")
        patch.setenv("SNOWFLAKE_DATABASE", snowflake_database)
        yield snowflake_database


def test_a_reading_goes_through_the_read_connection_with_its_timeouts(read_only_deployment: str) -> None:
    """STATEMENT_TIMEOUT_IN_SECONDS is a session parameter; where the warehouse sets one too, the lower
    applies (https://docs.snowflake.com/en/sql-reference/parameters#statement-timeout-in-seconds). The
    emulator does not enforce it: what the real connector was given to send at login is checked."""
    with health.reading_connection() as conn:
        assert conn._session_parameters["STATEMENT_TIMEOUT_IN_SECONDS"] == health.STATEMENT_TIMEOUT_SECONDS
        assert conn.network_timeout == health.NETWORK_TIMEOUT_SECONDS
        assert conn.cursor().execute("select current_database()").fetchone()[0] == read_only_deployment

    reading = health.read("hour")
    assert reading.errors() == {}, "the reading did not use the read connection"
    assert reading.conservation.totals["delivered"] == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_report_is_written_owner_only_through_the_read_connection(
    read_only_deployment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m warehouse report` under a permissive umask, into a new folder and over an older report
    left readable by everyone."""
    previous = os.umask(0o022)
    try:
        older = tmp_path / "older"
        older.mkdir(mode=0o755)
        (older / "index.html").write_text("an older report")
        os.chmod(older / "index.html", 0o644)
        for out in (tmp_path / "new" / "report", older):
            assert cli.main(["report", "--out", str(out)]) == 0, capsys.readouterr().err
            assert mode(out) == 0o700
            pages = sorted(p.name for p in out.iterdir())
            assert pages == sorted(report.STATIC_PAGES.values()), "a temporary file was left behind"
            assert {page: mode(out / page) for page in pages} == dict.fromkeys(pages, 0o600)
            assert "Pipeline health" in (out / "index.html").read_text()
    finally:
        os.umask(previous)


def test_the_report_refuses_a_shared_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1700)  # the sticky bit, as /tmp has (0o1777)
    assert cli.main(["report", "--out", str(shared)]) == 2
    assert "shared folder" in capsys.readouterr().err
    assert list(shared.iterdir()) == [] and mode(shared) == 0o1700, "the shared folder was changed"
