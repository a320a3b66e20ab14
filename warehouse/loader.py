"""Load delivered files into RAW: only files not loaded before, each in its own transaction.

One path for both stage modes. The files to load are listed in S3 and compared with ``raw.load_audit``
(not with COPY's 64-day load memory). In internal-stage mode each file is first copied from S3 to the
internal stage with PUT; in external-stage mode Snowflake reads it from S3 itself. Then the same COPY
lands its lines as text, and SQL splits them: JSON objects into ``raw.events_raw``, everything else into
``raw.rejected_events`` with a reason. A file that cannot be read at all (truncated gzip, not UTF-8) is
recorded as FAILED with the database's message and does not block the others; a lost connection is
raised, so the task's retry redoes the file from the start.

Records Firehose could not deliver (empty, several lines, not UTF-8) are in S3 too, under the delivery
stream's error output prefix, one JSON error record per line. Those objects are loaded the same way
(listed, audited by name and ETag, one transaction each, the same COPY) and each record is quarantined
with Firehose's reason (``sql/load/firehose_errors.sql``), so no record sent escapes the warehouse.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from snowflake.connector.errors import ProgrammingError

from warehouse import sql_files
from warehouse.identifiers import qualified_name, stage_path
from warehouse.settings import WarehouseSettings

# How Snowflake (and the emulator) words a compilation error for an object that is missing or not granted.
MISSING_OBJECT = "does not exist or not authorized"


@dataclass(frozen=True)
class LandedFile:
    key: str
    etag: str
    size: int
    last_modified: datetime | None = None


@dataclass
class LoadReport:
    files_loaded: int = 0
    files_failed: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    # Of the above: objects from Firehose's error output, and the records quarantined from them.
    error_files_loaded: int = 0
    error_records_quarantined: int = 0
    failures: dict[str, str] = field(default_factory=dict)


def list_landed_files(s3: Any, bucket: str, prefix: str, with_times: bool = False) -> list[LandedFile]:
    """Every object under the landing prefix, oldest key first (Firehose keys sort by time)."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue  # a folder marker, not a delivery
            modified = obj["LastModified"] if with_times else None
            found.append(LandedFile(obj["Key"], obj["ETag"].strip('"'), obj["Size"], modified))
    return sorted(found, key=lambda f: f.key)


def new_files(cursor: Any, landed: Iterable[LandedFile]) -> list[LandedFile]:
    known = {(name, etag) for name, etag in sql_files.run_file(cursor, "load/loaded_files.sql")}
    return [f for f in landed if (f.key, f.etag) not in known]


def copy_statement(stage: str, key: str) -> str:
    """COPY one staged file's lines into raw.landing_lines (names validated: they cannot be bound)."""
    return (
        f"copy into raw.landing_lines from @{qualified_name(stage, 'stage')}/{stage_path(key)} "
        "file_format = (format_name = 'raw.ndjson_lines') force = true"
    )


def put_to_internal_stage(cursor: Any, s3: Any, bucket: str, stage: str, key: str) -> None:
    """Copy one S3 object to the same path on the internal stage."""
    folder = str(PurePosixPath(key).parent)
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        local = Path(tmp) / PurePosixPath(key).name
        s3.download_file(bucket, key, str(local))
        target = f"@{qualified_name(stage, 'stage')}/{stage_path(folder)}/"
        cursor.execute(f"put 'file://{local.as_posix()}' {target} auto_compress = false overwrite = true")


# How each kind of object's lines are split once COPY has landed them in raw.landing_lines.
LANDING_SPLIT = ("load/events_raw.sql", "load/rejected_lines.sql")
ERROR_OUTPUT_SPLIT = ("load/firehose_errors.sql",)


def load_file(
    conn: Any, landed: LandedFile, settings: WarehouseSettings, s3: Any, bucket: str, error_output: bool = False
) -> tuple[int, int]:
    """Load one file atomically; return (rows loaded, rows rejected). Raises on anything but bad data.

    ``error_output``: the object is from Firehose's error output; its records are quarantined. It is always
    PUT to the internal stage: the storage integration of external-stage mode is granted only the landing
    prefix, and error objects are few and small.
    """
    cursor = conn.cursor()
    stage = settings.internal_stage if error_output else settings.stage
    load_id = uuid.uuid4().hex
    params = {"file_name": landed.key, "file_etag": landed.etag, "file_size": landed.size, "load_id": load_id}
    if landed.size == 0:
        # Nothing to copy (and COPY of a 0-byte file fails on the emulator): record it as loaded, empty.
        sql_files.run_file(cursor, "load/record_load.sql", params)
        return 0, 0
    if error_output or settings.stage_mode == "internal":
        put_to_internal_stage(cursor, s3, bucket, stage, landed.key)
    cursor.execute("begin")
    try:
        cursor.execute("delete from raw.landing_lines")
        try:
            cursor.execute(copy_statement(stage, landed.key))
        except ProgrammingError as exc:
            cursor.execute("rollback")
            if MISSING_OBJECT in str(exc.msg):
                # A missing stage, table or file format is the setup's fault, not the file's: fail the task
                # (its retry, or the run after `warehouse setup`, loads the file) rather than park it FAILED.
                raise
            # The file itself is unreadable: record why, in a transaction of its own, and move on.
            cursor.execute("begin")
            sql_files.run_file(cursor, "load/record_failure.sql", {**params, "error": str(exc.msg)[:4000]})
            cursor.execute("commit")
            raise UnreadableFile(str(exc.msg)) from exc
        for split in ERROR_OUTPUT_SPLIT if error_output else LANDING_SPLIT:
            sql_files.run_file(cursor, split, params)
        sql_files.run_file(cursor, "load/record_load.sql", params)
        cursor.execute("delete from raw.landing_lines")
        counts = cursor.execute(
            "select rows_loaded, rows_rejected from raw.load_audit where load_id = %(load_id)s", params
        ).fetchone()
        cursor.execute("commit")
        return int(counts[0]), int(counts[1])
    except UnreadableFile:
        raise
    except BaseException:
        cursor.execute("rollback")
        raise


class UnreadableFile(Exception):
    pass


def load_new_files(
    conn: Any,
    s3: Any,
    bucket: str,
    prefix: str,
    settings: WarehouseSettings,
    progress: Callable[[int, int, LandedFile], None] | None = None,
    error_prefix: str | None = None,
) -> LoadReport:
    """Load every landed file the audit does not know yet, oldest first; then, given ``error_prefix`` (the
    fixed folder of Firehose's error output), every new error object, quarantining its records."""
    if error_prefix and (error_prefix.startswith(prefix) or prefix.startswith(error_prefix)):
        raise ValueError(f"the error output folder {error_prefix!r} overlaps the landing folder {prefix!r}")
    cursor = conn.cursor()
    pending = [(landed, False) for landed in new_files(cursor, list_landed_files(s3, bucket, prefix))]
    if error_prefix:
        errors = list_landed_files(s3, bucket, error_prefix)
        pending += [(landed, True) for landed in new_files(cursor, errors)]
    report = LoadReport()
    for done, (landed, error_output) in enumerate(pending, start=1):
        try:
            loaded, rejected = load_file(conn, landed, settings, s3, bucket, error_output)
        except UnreadableFile as exc:
            report.files_failed += 1
            report.failures[landed.key] = str(exc)
        else:
            report.files_loaded += 1
            report.rows_loaded += loaded
            report.rows_rejected += rejected
            if error_output:
                report.error_files_loaded += 1
                report.error_records_quarantined += rejected
        if progress:
            progress(done, len(pending), landed)
    return report
