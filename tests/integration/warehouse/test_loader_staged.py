"""Staged copies: a folder a crash left on the internal stage is swept, and a failing REMOVE never hides the
load's own error.

A run stages each batch under a folder of its own, COPYs it and REMOVEs it. A run killed between COPY's
commit and the REMOVE (or whose REMOVE fails) leaves the folder behind; nothing reads it again, since a later
run stages from S3 anew, so a later run removes folders older than ``loader.STAGED_DEBRIS_AGE``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import ProgrammingError

from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, settings_for
from warehouse import loader
from warehouse.pipeline import use_database


class FailingStatements:
    """A real connection whose statements starting with one of ``failing`` raise the given error instead."""

    def __init__(self, real: Any, failing: dict[str, Exception]) -> None:
        self.real, self.failing = real, failing

    def cursor(self) -> Any:
        owner, real = self, self.real.cursor()

        class Cursor:
            def execute(self, sql: str, params: Any = None) -> Any:
                for start, error in owner.failing.items():
                    if sql.lower().startswith(start):
                        raise error
                real.execute(sql, params)
                return self

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return Cursor()


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database):
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, seed_lines()[:30])

    def fresh() -> Any:
        conn = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
        use_database(conn, snowflake_database)
        return conn

    return snowflake_conn, s3, bucket, settings, fresh


def staged(conn: Any, stage: str) -> list[str]:
    return [row[0] for row in conn.cursor().execute(f"list @{stage}").fetchall()]


def test_a_folder_left_by_a_failed_remove_is_swept_once_it_is_old(world) -> None:
    conn, s3, bucket, settings, fresh = world
    removing = ProgrammingError(msg="injected: REMOVE failed", errno=91003)
    report = loader.load_new_files(FailingStatements(fresh(), {"remove": removing}), s3, bucket, PREFIX, settings)
    assert report.files_loaded == 1  # the load committed; only its clean-up failed
    left = staged(conn, settings.internal_stage)
    assert len(left) == 1
    cursor = fresh().cursor()
    assert loader.sweep_staged(cursor, settings.internal_stage) == []  # younger than STAGED_DEBRIS_AGE: kept
    assert staged(conn, settings.internal_stage) == left
    (folder,) = loader.sweep_staged(cursor, settings.internal_stage, older_than=timedelta(0))
    assert folder in left[0]
    assert staged(conn, settings.internal_stage) == []
    assert scalar(conn, "select count(*) from raw.events_raw") == 30  # sweeping changes no loaded row


def test_a_failing_remove_never_replaces_the_loads_own_error(world) -> None:
    conn, s3, bucket, settings, fresh = world
    copying = ProgrammingError(msg="injected: Insufficient privileges to operate on stage", errno=3001)
    removing = ProgrammingError(msg="injected: REMOVE failed", errno=91003)
    failing = FailingStatements(fresh(), {"copy into": copying, "remove": removing})
    with pytest.raises(ProgrammingError, match="Insufficient privileges"):
        loader.load_new_files(failing, s3, bucket, PREFIX, settings)
    assert scalar(conn, "select count(*) from raw.load_audit") == 0
    assert loader.load_new_files(fresh(), s3, bucket, PREFIX, settings).files_loaded == 1
