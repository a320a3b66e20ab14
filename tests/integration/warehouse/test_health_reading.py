"""The health reading goes through the read connection, with its timeouts, and its report is written owner-only."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import mode
from tests.support.warehouse import prepare, settings_for
from warehouse import __main__ as cli
from warehouse import health, report

READ_CONN = "snowflake_health_read"


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
