"""What Snowflake answers a COPY with, injected around the real connector on the emulator.

COPY INTO <table> returns one result row per file, with the columns FILE, STATUS, ROWS_PARSED, ROWS_LOADED,
ERROR_LIMIT, ERRORS_SEEN, FIRST_ERROR, FIRST_ERROR_LINE, FIRST_ERROR_CHARACTER, FIRST_ERROR_COLUMN_NAME, or the
single row "Copy executed with 0 files processed." when it found nothing to load
(https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, "Output"). The loader requires a LOADED row
for every file it named, none for any other, and ROWS_PARSED = ROWS_LOADED = the lines landed; anything else
rolls the batch back and never marks the file.

Failures: only Snowflake's data errors (error numbers 100xxx, for example 100069 "Error parsing JSON", 100075
a file that cannot be decompressed) are a file's fault and park it FAILED. Insufficient privileges (003001,
SQLSTATE 42501), an object that does not exist or is not authorized (002003), S3 or KMS access refused by the
cloud provider, a statement timeout (000604, SQLSTATE 57014), no running warehouse (000606, SQLSTATE 57P03)
and a lost connection (the connector's OperationalError, 25xxxx) fail the task and mark nothing
(https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api, "Exceptions";
the S3 and KMS numbers below stand for any error outside the 100xxx family).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import DatabaseError, OperationalError, ProgrammingError

from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, settings_for
from warehouse import loader
from warehouse.pipeline import use_database

Injected = tuple[list[tuple[str, ...]], list[tuple[Any, ...]]] | None


class InjectingConnection:
    """A real connection whose first ``times`` COPY statements go through ``hook`` (which may run the real
    COPY through the cursor it is given, replace its result rows, or raise)."""

    def __init__(self, real: Any, hook: Callable[[Any, str], Injected], times: int = 1) -> None:
        self.real, self.hook, self.times = real, hook, times

    def cursor(self) -> InjectingCursor:
        return InjectingCursor(self, self.real.cursor())


class InjectingCursor:
    def __init__(self, owner: InjectingConnection, real: Any) -> None:
        self.owner, self.real, self.fake = owner, real, None

    def execute(self, sql: str, params: Any = None) -> InjectingCursor:
        self.fake = None
        if sql.lower().startswith("copy into") and self.owner.times > 0:
            self.owner.times -= 1
            self.fake = self.owner.hook(self.real, sql)
            return self
        self.real.execute(sql, params)
        return self

    @property
    def description(self) -> Any:
        return self.fake[0] if self.fake else self.real.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.fake[1] if self.fake else self.real.fetchall()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def zero_files(real: Any, sql: str) -> Injected:
    return [("status",)], [("Copy executed with 0 files processed.",)]


def _real_rows(real: Any, sql: str) -> tuple[list[tuple[str, ...]], list[list[Any]]]:
    real.execute(sql)
    return [(d[0],) for d in real.description], [list(row) for row in real.fetchall()]


def extra_file(real: Any, sql: str) -> Injected:
    description, rows = _real_rows(real, sql)
    rows.append(["landing_internal/elsewhere/other.gz", "LOADED", 1, 1, 1, 0, None, None, None, None])
    return description, [tuple(r) for r in rows]


def partial_load(real: Any, sql: str) -> Injected:
    description, rows = _real_rows(real, sql)
    rows[0][1], rows[0][3] = "PARTIALLY_LOADED", rows[0][2] - 1
    return description, [tuple(r) for r in rows]


def fewer_rows_parsed(real: Any, sql: str) -> Injected:
    description, rows = _real_rows(real, sql)
    rows[0][2] = rows[0][3] = rows[0][2] + 1
    return description, [tuple(r) for r in rows]


def raising(error: Exception) -> Callable[[Any, str], Injected]:
    def hook(real: Any, sql: str) -> Injected:
        raise error

    return hook


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database):
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    first = put_ndjson(s3, bucket, seed_lines()[:60], name="a")
    second = put_ndjson(s3, bucket, seed_lines()[60:], name="b")

    def fresh() -> Any:
        new = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
        use_database(new, snowflake_database)
        return new

    return snowflake_conn, s3, bucket, settings, fresh, (first, second)


@pytest.mark.parametrize("hook", [zero_files, extra_file, partial_load, fewer_rows_parsed])
def test_a_copy_result_that_does_not_account_for_the_file_fails_and_marks_nothing(world, hook) -> None:
    conn, s3, bucket, settings, fresh, _ = world
    with pytest.raises(loader.CopyResultError):
        loader.load_new_files(InjectingConnection(fresh(), hook, times=5), s3, bucket, PREFIX, settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    assert scalar(conn, "select count(*) from raw.events_raw") == 0
    report = loader.load_new_files(fresh(), s3, bucket, PREFIX, settings)
    assert report.files_loaded == 2
    assert scalar(conn, "select count(*) from raw.events_raw") == 100


def test_a_batch_with_a_bad_result_is_retried_one_file_at_a_time(world) -> None:
    conn, s3, bucket, settings, fresh, _ = world
    report = loader.load_new_files(InjectingConnection(fresh(), extra_file, times=1), s3, bucket, PREFIX, settings)
    assert (report.files_loaded, report.files_failed, report.copy_statements) == (2, 0, 3)
    assert scalar(conn, "select count(*) from raw.events_raw") == 100


@pytest.mark.parametrize(
    "error",
    [
        ProgrammingError(
            msg="Insufficient privileges to operate on stage 'LANDING_INTERNAL'", errno=3001, sqlstate="42501"
        ),
        ProgrammingError(
            msg="Stage 'RAW.LANDING_EXTERNAL' does not exist or not authorized.", errno=2003, sqlstate="02000"
        ),
        ProgrammingError(msg="Failed to access remote file: access denied. Please check your credentials", errno=91003),
        ProgrammingError(msg="Failed to decrypt: KMS key access denied (AWS KMS)", errno=91102),
        ProgrammingError(
            msg="Statement reached its statement or warehouse timeout of 3,600 second(s)", errno=604, sqlstate="57014"
        ),
        ProgrammingError(msg="No active warehouse selected in the current session.", errno=606, sqlstate="57P03"),
        OperationalError(msg="injected: connection reset by peer", errno=251011),
        DatabaseError(msg="injected: 250001: Could not connect to Snowflake backend", errno=250001),
    ],
    ids=["privileges", "not-authorized", "s3-access", "kms", "timeout", "no-warehouse", "connection", "backend"],
)
def test_errors_that_are_not_the_files_fault_fail_the_task_and_mark_no_file(world, error: Exception) -> None:
    conn, s3, bucket, settings, fresh, _ = world
    with pytest.raises(type(error)):
        loader.load_new_files(InjectingConnection(fresh(), raising(error), times=5), s3, bucket, PREFIX, settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    assert loader.load_new_files(fresh(), s3, bucket, PREFIX, settings).files_loaded == 2


def test_a_data_error_parks_only_its_file_and_the_report_names_it(world) -> None:
    conn, s3, bucket, settings, fresh, (first, second) = world
    bad_name = second.rsplit("/", 1)[-1]
    error = ProgrammingError(msg="Error parsing JSON: incomplete object value", errno=100069, sqlstate="22P02")

    def fail_on_second(real: Any, sql: str) -> Injected:
        if bad_name in sql:
            raise error
        description, rows = _real_rows(real, sql)
        return description, [tuple(r) for r in rows]

    report = loader.load_new_files(InjectingConnection(fresh(), fail_on_second, times=5), s3, bucket, PREFIX, settings)
    assert (report.files_loaded, report.files_failed) == (1, 1)
    assert list(report.failures) == [second] and "Error parsing JSON" in report.failures[second]
    statuses = dict(conn.cursor().execute("select file_name, status from raw.load_audit").fetchall())
    assert statuses == {first: "LOADED", second: "FAILED"}
    assert scalar(conn, "select count(*) from raw.events_raw") == 60


def load_failed_row(real: Any, sql: str) -> Injected:
    """What COPY answers when the stage's own options say ON_ERROR = CONTINUE (or SKIP_FILE) and a file is
    corrupt: no error, a LOAD_FAILED row with 0 rows loaded
    (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, "Copy options": ON_ERROR, and
    RETURN_FAILED_ONLY, which would hide the files that loaded)."""
    description, rows = _real_rows(real, sql)
    rows[0][1], rows[0][3], rows[0][6] = "LOAD_FAILED", 0, "Error parsing JSON: incomplete object value"
    return description, [tuple(r) for r in rows]


def test_copy_pins_its_own_error_options_and_a_load_failed_row_fails_the_batch(world) -> None:
    """Options in the COPY statement override the stage's (the COPY page: "copy options specified in the
    statement take precedence"), so an administrator's ON_ERROR on the stage cannot skip a corrupt file;
    and if a LOAD_FAILED row comes back anyway, the batch is rolled back and no file is marked."""
    conn, s3, bucket, settings, fresh, _ = world
    statement = loader.copy_statement("@RAW.LANDING_INTERNAL/f/", ["a.gz"])
    assert statement.endswith(" on_error = abort_statement return_failed_only = false")
    with pytest.raises(loader.CopyResultError, match="LOAD_FAILED"):
        loader.load_new_files(InjectingConnection(fresh(), load_failed_row, times=5), s3, bucket, PREFIX, settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    assert scalar(conn, "select count(*) from raw.events_raw") == 0
