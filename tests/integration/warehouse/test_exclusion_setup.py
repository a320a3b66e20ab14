"""Migrations and loads never interleave, and a load refuses a database at another schema version.

Two sessions on the Snowflake emulator: setup takes the same lease as a load, so a migration started while a
load holds it waits (or fails naming the load), and a load started while a migration runs waits for it (or
fails naming setup). The probe migration records how many files the audit held when its backfill ran: a
migration that ran beside a load would see part of it. A load or transform whose code expects another schema
version than the newest one the database records refuses to start, naming both, before writing anything;
the check is part of the statement that takes the lease, so it costs no statement of its own.
"""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mobile_events_elt.warehouse import exclusion, loader, setup, sql_files
from tests.support.seed import seed_lines
from tests.support.warehouse import (
    PREFIX,
    new_bucket,
    point_pipeline_at_emulators,
    prepare,
    put_ndjson,
    scalar,
    sessions,
    settings_for,
)

# A migration newer than every one the code has, added by the tests to a copy of sql/.
CURRENT = max(m.version for m in setup.migrations())
PROBE_VERSION = CURRENT + 1
PROBE_FILE = f"migrations/V{PROBE_VERSION:03d}__probe_backfill.sql"
PROBE = (
    "create table if not exists raw.probe_backfill (files_at_migration number);\n"
    "insert into raw.probe_backfill (files_at_migration) select count(*) from raw.load_audit;\n"
)


@pytest.fixture
def world(aws_endpoint, snowflake_server, snowflake_conn, snowflake_database, tmp_path, monkeypatch):
    """A prepared database, two files landed, and a copy of sql/ the code reads (a test may add a migration)."""
    monkeypatch.setattr(exclusion, "POLL_SECONDS", 0.1)
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    copy = tmp_path / "sql"
    shutil.copytree(sql_files.SQL_DIR, copy)
    monkeypatch.setattr(sql_files, "SQL_DIR", copy)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, seed_lines()[:60])
    put_ndjson(s3, bucket, seed_lines()[60:])
    with sessions(snowflake_server, snowflake_database) as session:
        yield {
            "conn": snowflake_conn,
            "settings": settings,
            "s3": s3,
            "bucket": bucket,
            "sql": copy,
            "session": session,
        }


def add_probe_migration(sql: Path) -> None:
    (sql / PROBE_FILE).write_text(PROBE)


def load_holding_lease(conn: Any, world: dict[str, Any], expected: int, wait_seconds: float) -> loader.LoadReport:
    """What ``pipeline.load`` does: load the new files holding the lease."""
    with exclusion.held(conn, exclusion.Caller.command("load"), expected, wait_seconds, poll_seconds=0.1):
        return loader.load_new_files(conn, world["s3"], world["bucket"], PREFIX, world["settings"])


def in_thread(work: Any) -> Any:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future


def recorded_versions(conn: Any) -> list[int]:
    rows = conn.cursor().execute("select version from raw.schema_migrations order by version").fetchall()
    return [int(row[0]) for row in rows]


def test_a_migration_started_while_a_load_holds_the_lease_waits_for_it(world) -> None:
    loading = world["session"]()
    running_version = setup.schema_version()  # the version the running load's code expects
    add_probe_migration(world["sql"])  # new code is deployed while the load runs
    with exclusion.held(loading, exclusion.Caller.command("load"), running_version):
        report = loader.load_new_files(loading, world["s3"], world["bucket"], PREFIX, world["settings"])
        assert report.files_loaded == 2

        def migrate(wait_seconds: float) -> Any:
            return lambda: setup.run_setup(world["session"](), world["settings"], wait_seconds=wait_seconds)

        with pytest.raises(exclusion.LeaseHeld, match=r"held by mobile-events-warehouse load \(.*pid \d+\) since"):
            in_thread(migrate(0)).result()
        assert PROBE_VERSION not in recorded_versions(world["conn"])
        waiting = in_thread(migrate(60))
    assert waiting.result() == [PROBE_FILE]
    # The backfill ran after the load had committed everything: none of its rows was missed.
    assert scalar(world["conn"], "select files_at_migration from raw.probe_backfill") == 2


class PausingCursor:
    """The real cursor, stopping before the probe migration's backfill until the test lets it go on."""

    def __init__(self, cursor: Any, reached: threading.Event, proceed: threading.Event) -> None:
        self._cursor, self._reached, self._proceed = cursor, reached, proceed

    def execute(self, statement: str, params: Any = None) -> Any:
        if statement.startswith("insert into raw.probe_backfill"):
            self._reached.set()
            assert self._proceed.wait(60)
        return self._cursor.execute(statement, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class PausingConnection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.reached, self.proceed = threading.Event(), threading.Event()

    def cursor(self) -> PausingCursor:
        return PausingCursor(self._conn.cursor(), self.reached, self.proceed)


def test_a_load_started_while_a_migration_runs_waits_for_it_then_loads_at_the_new_version(world) -> None:
    add_probe_migration(world["sql"])
    migrating = PausingConnection(world["session"]())
    done = in_thread(lambda: setup.run_setup(migrating, world["settings"]))
    assert migrating.reached.wait(60)  # setup holds the lease, half-way through the probe migration
    expected = setup.schema_version()
    assert expected == PROBE_VERSION
    with pytest.raises(exclusion.LeaseHeld, match=r"held by mobile-events-warehouse setup \("):
        load_holding_lease(world["session"](), world, expected, wait_seconds=0)
    waiting = in_thread(lambda: load_holding_lease(world["session"](), world, expected, wait_seconds=60))
    migrating.proceed.set()
    assert done.result() == [PROBE_FILE]
    assert waiting.result().files_loaded == 2
    assert scalar(world["conn"], "select files_at_migration from raw.probe_backfill") == 0


@pytest.fixture
def pipeline_env(world, aws_endpoint, snowflake_server, snowflake_database, monkeypatch) -> dict[str, Any]:
    """The Airflow connections and config ``warehouse.pipeline`` reads, pointed at the emulators; one file
    landed in the configured bucket."""

    s3, bucket = point_pipeline_at_emulators(monkeypatch, snowflake_server, aws_endpoint, snowflake_database)
    put_ndjson(s3, bucket, seed_lines()[:10])
    return world


def loaded_files(conn: Any) -> int:
    return scalar(conn, "select count(*) from raw.load_audit")


def test_a_database_at_an_older_version_refuses_the_load_naming_both_versions(pipeline_env) -> None:
    from mobile_events_elt.warehouse import pipeline

    add_probe_migration(pipeline_env["sql"])
    with pytest.raises(exclusion.SchemaVersionMismatch) as refused:
        pipeline.load()
    assert f"expects schema version V{PROBE_VERSION:03d} but the database has V{CURRENT:03d}: run setup" in str(
        refused.value
    )
    assert (refused.value.expected, refused.value.found) == (PROBE_VERSION, CURRENT)
    assert loaded_files(pipeline_env["conn"]) == 0
    assert scalar(pipeline_env["conn"], "select token is null from raw.pipeline_lease") is True
    setup.run_setup(pipeline_env["conn"], pipeline_env["settings"])
    assert pipeline.load()["files_loaded"] >= 1


def test_a_database_migrated_by_newer_code_refuses_the_load(pipeline_env) -> None:
    from mobile_events_elt.warehouse import pipeline

    pipeline_env["conn"].cursor().execute(
        "insert into raw.schema_migrations (version, name, checksum, applied_at) values (99, 'future', 'x', sysdate())"
    )
    expected = rf"expects schema version V{CURRENT:03d} but the database has V099"
    with pytest.raises(exclusion.SchemaVersionMismatch, match=expected):
        pipeline.load()
    assert loaded_files(pipeline_env["conn"]) == 0


def test_a_database_from_before_the_lease_refuses_the_load_and_setup_brings_it_up(pipeline_env) -> None:
    """No raw.pipeline_lease yet (a database from before V041): the load is told the versions, not 'no such table'."""
    from mobile_events_elt.warehouse import pipeline

    cursor = pipeline_env["conn"].cursor()
    cursor.execute("drop table raw.pipeline_lease")
    cursor.execute(f"delete from raw.schema_migrations where version >= {exclusion.LEASE_MIGRATION}")
    older = max(recorded_versions(pipeline_env["conn"]))
    expected = rf"expects schema version V{CURRENT:03d} but the database has V{older:03d}"
    with pytest.raises(exclusion.SchemaVersionMismatch, match=expected):
        pipeline.load()
    newer = [m.relative for m in setup.migrations() if m.version >= exclusion.LEASE_MIGRATION]
    assert setup.run_setup(pipeline_env["conn"], pipeline_env["settings"]) == newer
    assert pipeline.load()["files_loaded"] >= 1


class RecordingConnection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def cursor(self) -> Any:
        owner, real = self, self._conn.cursor()

        class Recording:
            def execute(self, statement: str, params: Any = None) -> Any:
                owner.statements.append(statement)
                return real.execute(statement, params)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return Recording()


def test_the_version_check_costs_no_statement_of_its_own(world) -> None:
    """Holding the lease for a run is two statements, taking it (with the version check) and giving it back."""
    recording = RecordingConnection(world["session"]())
    with exclusion.held(recording, exclusion.Caller.command("load"), setup.schema_version()):
        pass
    assert len(recording.statements) == 2
    assert all(s.startswith("update raw.pipeline_lease") for s in recording.statements)
    assert "raw.schema_migrations" in recording.statements[0]


def test_the_cli_fails_naming_the_holder_or_both_versions(pipeline_env, monkeypatch, capsys) -> None:
    from mobile_events_elt.warehouse.__main__ import main

    monkeypatch.setattr(exclusion, "WAIT_SECONDS", 0)
    holder = exclusion.Caller.task("mobile_events_elt", "manual__2026-02-01T00:00:00+00:00", "load_transform_check", 2)
    cursor = pipeline_env["session"]().cursor()
    lease = exclusion.acquire(cursor, holder, setup.schema_version())
    for command in ("transform", "load", "check", "setup"):
        assert main([command]) == 1
        error = capsys.readouterr().err
        assert f"the pipeline is busy: held by {holder.who} since" in error, command
    assert exclusion.release(cursor, lease)
    add_probe_migration(pipeline_env["sql"])
    assert main(["transform"]) == 1
    expected = f"expects schema version V{PROBE_VERSION:03d} but the database has V{CURRENT:03d}: run setup"
    assert expected in capsys.readouterr().err
    assert main(["setup"]) == 0
    assert f"applied 1 files: {PROBE_FILE}" in capsys.readouterr().out
    assert main(["transform"]) == 0
