"""The Snowflake emulator on a shared machine: only the stack's login secret gets in, and SQL reads no file
outside the emulator's own data, while the pipeline's PUT and COPY still work.

Against the session's emulator server (the launcher `make up` runs), through the real connector.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from snowflake.connector.errors import DatabaseError, ProgrammingError

OUTSIDE = [
    "select content from read_text('/etc/hostname')",
    "select * from read_csv('/etc/passwd', sep = ':')",
    "select content from read_text('{home}/.bashrc')",
    "select content from read_blob('/etc/hostname')",
    "select * from read_json_objects('/etc/os-release')",
]


def data_dir(snowflake_server: dict[str, object], run_dir: Path) -> Path:
    """Where the session's emulator keeps its data (tests/conftest.py's snowflake_server)."""
    return run_dir / f"snowflake-{snowflake_server['port']}"


def refused(cursor, sql: str, snowflake_server: dict[str, object], run_dir: Path) -> None:
    """The statement fails, and the emulator's log says DuckDB refused the file access (the client sees only
    fakesnow's "Unhandled exception" for an error it does not translate)."""
    log = run_dir / f"snowflake-{snowflake_server['port']}.log"
    before = log.stat().st_size
    with pytest.raises(ProgrammingError):
        cursor.execute(sql)
    with log.open("rb") as text:
        text.seek(before)
        assert b"Permission Error: Cannot access" in text.read(), f"{sql} failed for another reason"


@pytest.fixture
def cursor(snowflake_conn):
    cur = snowflake_conn.cursor()
    cur.execute("create schema if not exists S")
    cur.execute("use schema S")
    return cur


@pytest.mark.parametrize("sql", OUTSIDE)
def test_sql_reaches_no_file_outside_the_emulators_data(
    cursor, sql: str, tmp_path: Path, snowflake_server, run_dir
) -> None:
    """fakesnow passes DuckDB's table functions through; the launcher's lock-down refuses the file access."""
    refused(cursor, sql.format(home=Path.home(), tmp=tmp_path), snowflake_server, run_dir)


def test_sql_cannot_read_the_login_secret_in_the_data_folder(cursor, snowflake_server, run_dir) -> None:
    secret_file = data_dir(snowflake_server, run_dir) / "login-secret"
    assert secret_file.exists()
    refused(cursor, f"select content from read_text('{secret_file}')", snowflake_server, run_dir)


@pytest.mark.parametrize("password", ["local", "wrong"])
def test_a_wrong_password_is_refused_as_snowflake_refuses_it(snowflake_server, password: str) -> None:
    """Snowflake answers a failed login with error 390100, "Incorrect username or password was specified.",
    which the connector raises as a DatabaseError carrying that errno."""
    import snowflake.connector

    with pytest.raises(DatabaseError) as refused:
        snowflake.connector.connect(**{**snowflake_server, "password": password})
    assert refused.value.errno == 390100


def test_a_login_asking_for_its_own_database_file_is_refused(snowflake_server, tmp_path: Path) -> None:
    """fakesnow's FAKESNOW_DB_PATH session parameter would open a DuckDB outside the lock-down."""
    import snowflake.connector

    with pytest.raises(DatabaseError) as refused:
        snowflake.connector.connect(
            **snowflake_server, session_parameters={"FAKESNOW_DB_PATH": str(tmp_path / "elsewhere.duckdb")}
        )
    assert refused.value.errno == 390100
    assert not (tmp_path / "elsewhere.duckdb").exists()


def test_put_and_copy_still_work_and_an_unsigned_upload_is_refused(snowflake_server, cursor, tmp_path: Path) -> None:
    """The pipeline's own path (PUT to an internal stage, COPY from it) under the lock-down; a local user
    without a session cannot plant a staged file through the upload route the emulator serves."""
    lines = tmp_path / "lines.csv"
    lines.write_text('{"a": 1}\n{"b": 2}\n')
    cursor.execute("create table LINES (LINE varchar)")
    cursor.execute("create stage LANDING")
    put = cursor.execute(f"put 'file://{lines}' @LANDING/in auto_compress = false").fetchall()
    assert put[0][6] == "UPLOADED"
    cursor.execute("copy into LINES from @LANDING/in file_format = (type = csv)")
    assert cursor.execute("select count(*) from LINES").fetchone() == (2,)

    database = cursor.execute("select current_database()").fetchone()[0]
    url = f"http://127.0.0.1:{snowflake_server['port']}/fs_bucket/{database}/S/LANDING/in/lines.csv"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, data=b'{"planted": 1}\n', method="PUT"), timeout=10)
    assert refused.value.code == 403
    cursor.execute("copy into LINES from @LANDING/in file_format = (type = csv) force = true")
    assert cursor.execute("select count(*) from LINES where LINE like '%planted%'").fetchone() == (0,)
