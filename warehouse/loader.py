"""Load delivered files into RAW: only files not loaded before, many files per COPY, each exactly once.

``raw.load_audit`` (not COPY's 64-day load memory) decides what is new; a batch of up to ``files_per_copy``
files is COPYed, split into ``raw.events_raw`` / ``raw.rejected_events`` and audited in one transaction, and
only Snowflake's data errors park a file as FAILED (a batch failing on one is retried file by file). Firehose's
error output loads the same way and is quarantined record by record. Design: docs/exactly-once.md.
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError
from snowflake.connector.errors import ProgrammingError

from warehouse import sql_files
from warehouse.identifiers import key_problem, qualified_name, stage_path
from warehouse.listing_window import LandedFile
from warehouse.log_text import shown
from warehouse.settings import WarehouseSettings
from warehouse.transactions import transaction

# Snowflake's limit on the file names one COPY may list in FILES.
MAX_FILES_PER_COPY = 1000
# An object's audit row is written after S3 wrote the object: looked up from this long before the oldest
# listed object's LastModified (clock differences between S3 and Snowflake), never further back.
AUDIT_LOOKBACK_MARGIN = timedelta(days=1)
# Unresolved files (FAILED, REJECTED_KEY) outside the listing are checked with one HEAD each, at most these.
MAX_PRESENCE_CHECKS = 100
# A staged folder older than this is left from a run that died before its REMOVE (a load holds one for the
# length of one COPY batch).
STAGED_DEBRIS_AGE = timedelta(hours=1)
_SAFE_LOCAL_PATH = re.compile(r"[A-Za-z0-9_./-]+")
_STAGED_FOLDER = re.compile(r"[0-9a-f]{32}")
log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    files_loaded: int = 0
    files_failed: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    # Of the above: objects from Firehose's error output, and the records quarantined from them.
    error_files_loaded: int = 0
    error_records_quarantined: int = 0
    # Every file parked FAILED by this run, with the database's message.
    failures: dict[str, str] = field(default_factory=dict)
    # Every key recorded as REJECTED_KEY by this run, with the reason.
    rejected_keys: dict[str, str] = field(default_factory=dict)
    # Files parked FAILED and keys rejected by earlier runs, not replayed or replaced since.
    unresolved: dict[str, str] = field(default_factory=dict)
    copy_statements: int = 0


class CopyResultError(RuntimeError):
    """COPY's result rows do not account for exactly the files it was given, each loaded whole."""


def is_data_error(exc: BaseException) -> bool:
    """Snowflake's data errors (100xxx: the file's bytes cannot be decompressed, decoded or parsed)."""
    return isinstance(exc, ProgrammingError) and exc.errno is not None and 100000 <= int(exc.errno) <= 100999


def list_landed_files(s3: Any, bucket: str, prefix: str, with_times: bool = False) -> list[LandedFile]:
    """Every object under a whole folder, oldest key first (Firehose keys sort by time). Runs list a bounded
    window instead (``warehouse.listing_marker``); this is for tools and tests that want everything."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/") and obj["Size"] == 0:
                continue  # a folder marker, not a delivery
            modified = obj["LastModified"] if with_times else None
            found.append(LandedFile(obj["Key"], obj["ETag"].strip('"'), obj["Size"], modified))
    return sorted(found, key=lambda f: f.key)


@dataclass(frozen=True)
class AuditState:
    known: set[tuple[str, str]]
    # Files parked FAILED or keys REJECTED_KEY, with no loaded version since: they need a person.
    unresolved: dict[str, str]


def audit_state(cursor: Any, landed: Sequence[LandedFile]) -> AuditState:
    """What the audit knows of the listed files, read from the audit rows written since the oldest of them
    landed (``AUDIT_LOOKBACK_MARGIN`` before), and every file still unresolved: rows read are set by what
    the listing holds, not by the audit's history. A listing without times reads the whole audit."""
    known: set[tuple[str, str]] = set()
    if landed:
        times = [f.last_modified for f in landed if f.last_modified is not None]
        since = None
        if len(times) == len(landed):
            since = min(times).astimezone(UTC).replace(tzinfo=None) - AUDIT_LOOKBACK_MARGIN
        known = {(name, etag) for name, etag in sql_files.run_file(cursor, "load/known_files.sql", {"since": since})}
    failed = sql_files.run_file(cursor, "load/unresolved_files.sql")
    unresolved = {name: f"{status}: {error}" for name, status, error in failed}
    return AuditState(known, unresolved)


def unseen(state: AuditState, landed: Iterable[LandedFile]) -> list[LandedFile]:
    return [f for f in landed if (f.key, f.etag) not in state.known]


def new_files(cursor: Any, landed: Sequence[LandedFile]) -> list[LandedFile]:
    """The landed files the audit does not know yet."""
    return unseen(audit_state(cursor, landed), landed)


def still_present(s3: Any, bucket: str, keys: Iterable[str], listed: set[str]) -> set[str]:
    """Of ``keys``, those still in S3: listed, or found by a HEAD (the first ``MAX_PRESENCE_CHECKS`` not
    listed; past that a key is taken as present, so nothing unresolved is forgotten unchecked)."""
    present, checks = set(), 0
    for key in sorted(keys):
        if key in listed or checks >= MAX_PRESENCE_CHECKS:
            present.add(key)
            continue
        checks += 1
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                present.add(key)
            continue
        present.add(key)
    return present


def copy_statement(location: str, staged_names: Sequence[str]) -> str:
    """COPY exactly the named files at ``location`` into the session's landing_lines, with their names; the
    copy options that decide whether a bad file can pass are the statement's own, not the stage's.

    Names cannot be bound in COPY: the location is a validated stage name (and a loader-made folder), the
    file names are canonical paths (warehouse.identifiers) written as quoted literals."""
    files = ", ".join(f"'{stage_path(name)}'" for name in staged_names)
    return (
        "copy into landing_lines (file_name, line) from ("  # noqa: S608  # nosec B608: validated names
        f"select metadata$filename, $1 from {location}"
        f") files = ({files}) file_format = (format_name = 'raw.ndjson_lines') force = true"
        # Pinned here, whatever copy options an administrator sets on the stage: a file that does not load
        # fails the statement, and every file gets a result row (check_copy_result).
        " on_error = abort_statement return_failed_only = false"
    )


def match_staged_name(reported: str, staged_names: Iterable[str]) -> str | None:
    """The staged name a COPY result or METADATA$FILENAME refers to: equal, or its longest path suffix
    (Snowflake reports internal files as stage/path and external ones as a full URL)."""
    matches = [n for n in staged_names if reported == n or reported.endswith("/" + n)]
    return max(matches, key=len) if matches else None


def check_copy_result(
    description: Any, rows: list[tuple[Any, ...]], landed: dict[str, int], staged_names: Sequence[str]
) -> None:
    """Every named file LOADED once, nothing else, rows parsed = rows loaded = lines landed for it.

    ``landed``: lines in landing_lines per reported file name. Raises CopyResultError otherwise."""
    columns = [c[0].lower() for c in description or []]
    if "file" not in columns or "status" not in columns:
        summary = rows[0][0] if rows and rows[0] else "no result"
        raise CopyResultError(f"COPY of {len(staged_names)} file(s) reported {summary!r}")
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        result = dict(zip(columns, row, strict=False))
        name = match_staged_name(str(result["file"]), staged_names)
        if name is None or name in seen:
            raise CopyResultError(f"COPY reported a file it was not given (or twice): '{shown(result['file'])}'")
        seen[name] = result
    missing = [n for n in staged_names if n not in seen]
    if missing:
        raise CopyResultError(f"COPY did not load {len(missing)} named file(s), first {missing[0]!r}")
    per_name: dict[str, int] = {}
    for reported, count in landed.items():
        name = match_staged_name(reported, staged_names)
        if name is None:
            raise CopyResultError(f"COPY landed lines of a file it was not given: '{shown(reported)}'")
        per_name[name] = per_name.get(name, 0) + count
    for name, result in seen.items():
        parsed, loaded = int(result.get("rows_parsed") or 0), int(result.get("rows_loaded") or 0)
        lines = per_name.get(name, 0)
        if str(result["status"]).upper() != "LOADED" or not parsed == loaded == lines:
            raise CopyResultError(
                f"COPY of {name!r}: status {result['status']}, {parsed} rows parsed, {loaded} loaded, {lines} landed"
                f" ({result.get('first_error')})"
            )


def configure_session(cursor: Any) -> None:
    """The session's private landing tables, created once per run outside any transaction (DDL commits).
    LOCK_TIMEOUT and STATEMENT_TIMEOUT_IN_SECONDS come with the connection (warehouse/snowflake_hook.py)."""
    sql_files.run_file(cursor, "load/landing_tables.sql")


@dataclass
class Batch:
    """Files loaded by one COPY: staged name (relative to ``location``) -> the S3 object."""

    location: str
    staged: dict[str, LandedFile]
    empty: list[LandedFile]
    internal_folder: str | None = None


def stage_batch(
    cursor: Any, s3: Any, bucket: str, files: list[LandedFile], stage: str, internal: bool, prefix: str
) -> Batch:
    """Make a batch's files readable by COPY. Internal: download them and PUT them in one statement to a
    new folder of the internal stage, as ``<n>-<file name>``. External: they are read where they are,
    relative to the external stage (whose URL is the landing prefix)."""
    stage_name = qualified_name(stage, "stage")
    empty = [f for f in files if f.size == 0]
    nonempty = [f for f in files if f.size > 0]
    if not internal:
        return Batch(f"@{stage_name}", {f.key[len(prefix) :]: f for f in nonempty}, empty)
    folder = uuid.uuid4().hex
    staged = {f"{n:05d}-{PurePosixPath(f.key).name}": f for n, f in enumerate(nonempty)}
    if staged:
        with tempfile.TemporaryDirectory(prefix="load-") as tmp:
            if not _SAFE_LOCAL_PATH.fullmatch(tmp):
                raise RuntimeError(f"the temporary folder {tmp!r} cannot be named in a PUT statement")
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(
                    pool.map(
                        lambda item: s3.download_file(bucket, item[1].key, str(Path(tmp) / item[0])), staged.items()
                    )
                )
            cursor.execute(
                f"put 'file://{Path(tmp).as_posix()}/*' @{stage_name}/{folder}/ "
                "auto_compress = false overwrite = true parallel = 8"
            )
            uploaded = {row[1] for row in cursor.fetchall() if str(row[6]).upper() in ("UPLOADED", "SKIPPED")}
    else:
        uploaded = set()
    if set(staged) - uploaded:
        raise RuntimeError(f"PUT did not upload {len(set(staged) - uploaded)} file(s) of the batch")
    return Batch(f"@{stage_name}/{folder}/", staged, empty, internal_folder=f"@{stage_name}/{folder}/")


def copy_and_split(cursor: Any, batch: Batch, error_output: bool, horizon_days: int) -> dict[str, tuple[int, int]]:
    """One transaction: COPY the batch, check its result, split the lines, audit each file; a line already
    quarantined within ``horizon_days`` (the dedup horizon) is not quarantined again.
    Returns key -> (rows loaded, rows rejected)."""
    with transaction(cursor):
        for table in ("landing_lines", "landing_files", "landing_parsed"):
            cursor.execute(f"delete from {table}")  # noqa: S608  # nosec B608: fixed names
        if batch.staged:
            cursor.execute(copy_statement(batch.location, list(batch.staged)))
            description, rows = cursor.description, cursor.fetchall()
            landed = dict(cursor.execute("select file_name, count(*) from landing_lines group by file_name").fetchall())
            check_copy_result(description, rows, landed, list(batch.staged))
            # The name COPY gave each file's lines (checked above to map to exactly one staged name).
            by_name = {match_staged_name(reported, batch.staged): reported for reported in landed}
        else:
            by_name = {}
        entries = [(by_name.get(name, name), f) for name, f in batch.staged.items()] + [("", f) for f in batch.empty]
        load_ids = {f.key: uuid.uuid4().hex for _, f in entries}
        cursor.executemany(
            "insert into landing_files (staged_name, file_name, file_etag, file_size, load_id) "
            "values (%s, %s, %s, %s, %s)",
            [(staged, f.key, f.etag, f.size, load_ids[f.key]) for staged, f in entries],
        )
        for split in (
            ("load/firehose_errors.sql",)
            if error_output
            else ("load/parsed_lines.sql", "load/events_raw.sql", "load/rejected_lines.sql")
        ):
            sql_files.run_file(cursor, split, {"dedup_horizon_days": horizon_days})
        sql_files.run_file(cursor, "load/record_load.sql")
        counts = cursor.execute(
            "select files.file_name, queue.rows_loaded, queue.rows_rejected from raw.transform_queue as queue "
            "inner join landing_files as files on queue.load_id = files.load_id"
        ).fetchall()
        cursor.execute("delete from landing_lines")
        cursor.execute("delete from landing_parsed")
    return {str(key): (int(loaded), int(rejected)) for key, loaded, rejected in counts}


def record_failure(cursor: Any, landed: LandedFile, error: str, status: str = "FAILED") -> None:
    """Record a file that cannot be loaded (FAILED, or REJECTED_KEY) with the reason, in its own transaction."""
    params = {
        "status": status,
        "file_name": landed.key,
        "file_etag": landed.etag,
        "file_size": landed.size,
        "load_id": uuid.uuid4().hex,
        "error": error[:4000],
    }
    with transaction(cursor):
        sql_files.run_file(cursor, "load/record_failure.sql", params)


def load_batch(
    cursor: Any, batch: Batch, error_output: bool, report: LoadReport, horizon_days: int
) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Load a staged batch in one transaction; when it fails on a file's data (or COPY's result does not
    add up), one file at a time, parking a file FAILED only for a data error of its own.
    Returns (key -> counts of each loaded file, key -> error of each file parked FAILED)."""
    try:
        report.copy_statements += 1 if batch.staged else 0
        return copy_and_split(cursor, batch, error_output, horizon_days), {}
    except (ProgrammingError, CopyResultError) as exc:
        if len(batch.staged) == 1 and is_data_error(exc):
            landed = next(iter(batch.staged.values()))
            error = str(getattr(exc, "msg", None) or exc)
            record_failure(cursor, landed, error)
            empty = Batch(batch.location, {}, batch.empty)
            loaded = copy_and_split(cursor, empty, error_output, horizon_days) if batch.empty else {}
            return loaded, {landed.key: error}
        if len(batch.staged) <= 1 or not (is_data_error(exc) or isinstance(exc, CopyResultError)):
            raise
    loaded: dict[str, tuple[int, int]] = {}
    failed: dict[str, str] = {}
    singles = [Batch(batch.location, {name: f}, []) for name, f in batch.staged.items()]
    if batch.empty:
        singles.append(Batch(batch.location, {}, batch.empty))
    for single in singles:
        done, parked = load_batch(cursor, single, error_output, report, horizon_days)
        loaded.update(done)
        failed.update(parked)
    return loaded, failed


def remove_staged(cursor: Any, batch: Batch) -> None:
    if batch.internal_folder:
        cursor.execute(f"remove {batch.internal_folder}")


def sweep_staged(cursor: Any, stage: str, older_than: timedelta = STAGED_DEBRIS_AGE) -> list[str]:
    """Remove the internal stage's folders left by a run that died between staging and REMOVE. A staged
    copy is never read again once its batch committed or rolled back (a new run stages from S3 anew), so a
    folder older than ``older_than`` (longer than any load holds one) is debris; return the folders removed."""
    stage_name = qualified_name(stage, "stage")
    cursor.execute(f"list @{stage_name}")
    columns = [d[0].lower() for d in cursor.description]
    name_at, modified_at = columns.index("name"), columns.index("last_modified")
    cutoff = datetime.now(UTC) - older_than
    old, recent = set(), set()
    for row in cursor.fetchall():
        parts = str(row[name_at]).split("/")
        folder = parts[-2] if len(parts) >= 3 else None
        if folder is None or not _STAGED_FOLDER.fullmatch(folder):
            continue
        (old if _listed_time(row[modified_at]) < cutoff else recent).add(folder)
    swept = sorted(old - recent)
    for folder in swept:
        cursor.execute(f"remove @{stage_name}/{folder}/")
    return swept


def _listed_time(value: Any) -> datetime:
    """LIST's last_modified (text such as 'Fri, 4 Dec 2026 10:00:00 GMT', or a timestamp) as an aware time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return datetime.now(UTC)  # unreadable: taken as recent, so never removed on a guess


def _chunks(items: list[LandedFile], size: int) -> Iterable[list[LandedFile]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_new_files(
    conn: Any,
    s3: Any,
    bucket: str,
    prefix: str,
    settings: WarehouseSettings,
    progress: Callable[[int, int, LandedFile], None] | None = None,
    error_prefix: str | None = None,
    files_per_copy: int = MAX_FILES_PER_COPY,
) -> LoadReport:
    """Load every file under the whole landing folder (and ``error_prefix``, the fixed folder of Firehose's
    error output) that the audit does not know yet. Runs load the window they listed (``load_files``)."""
    folders = [(prefix, False, list_landed_files(s3, bucket, prefix, with_times=True))]
    if error_prefix:
        folders.append((error_prefix, True, list_landed_files(s3, bucket, error_prefix, with_times=True)))
    return load_files(conn, s3, bucket, settings, folders, progress, files_per_copy)


def load_files(
    conn: Any,
    s3: Any,
    bucket: str,
    settings: WarehouseSettings,
    folders: Sequence[tuple[str, bool, Sequence[LandedFile]]],
    progress: Callable[[int, int, LandedFile], None] | None = None,
    files_per_copy: int = MAX_FILES_PER_COPY,
) -> LoadReport:
    """Load the listed files the audit does not know yet, oldest first, ``files_per_copy`` per COPY.

    ``folders``: (fixed folder, whether it is Firehose's error output, the objects listed under it); an
    error output object's records are quarantined with Firehose's reason."""
    fixed = [folder for folder, _, _ in folders]
    for folder in fixed:
        overlapping = [other for other in fixed if other != folder and other.startswith(folder)]
        if overlapping:
            raise ValueError(f"the folder {overlapping[0]!r} overlaps the folder {folder!r}")
    if not 1 <= files_per_copy <= MAX_FILES_PER_COPY:
        raise ValueError(f"files_per_copy must be 1 to {MAX_FILES_PER_COPY} (got {files_per_copy})")
    cursor = conn.cursor()
    listed = [f for _, _, found in folders for f in found]
    state = audit_state(cursor, listed)
    groups = [(folder, error_output, unseen(state, found)) for folder, error_output, found in folders]
    # A FAILED or rejected object someone has since removed from S3 needs nobody any more.
    present = still_present(s3, bucket, state.unresolved, {f.key for f in listed})
    report = LoadReport(unresolved={name: why for name, why in state.unresolved.items() if name in present})
    total = sum(len(files) for _, _, files in groups)
    if not total:
        return report
    configure_session(cursor)
    if settings.stage_mode == "internal" or any(error_output for _, error_output, _ in groups):
        sweep_staged(cursor, settings.internal_stage)
    done = 0
    for folder, error_output, files in groups:
        loadable = []
        for landed in files:
            problem = key_problem(landed.key, folder)
            if problem is None:
                loadable.append(landed)
                continue
            record_failure(cursor, landed, problem, "REJECTED_KEY")
            report.rejected_keys[landed.key] = problem
            done += 1
            if progress:
                progress(done, total, landed)
        internal = error_output or settings.stage_mode == "internal"
        stage = settings.internal_stage if error_output else settings.stage
        for chunk in _chunks(loadable, files_per_copy):
            batch = stage_batch(cursor, s3, bucket, chunk, stage, internal, folder)
            try:
                loaded, failed = load_batch(cursor, batch, error_output, report, settings.dedup_horizon_days)
            finally:
                _remove_leaving_debris(cursor, batch)
            for landed in chunk:
                done += 1
                if landed.key in failed:
                    report.files_failed += 1
                    report.failures[landed.key] = failed[landed.key]
                else:
                    rows, rejected = loaded[landed.key]
                    report.unresolved.pop(landed.key, None)  # a replaced object loaded: resolved
                    report.files_loaded += 1
                    report.rows_loaded += rows
                    report.rows_rejected += rejected
                    if error_output:
                        report.error_files_loaded += 1
                        report.error_records_quarantined += rejected
                if progress:
                    progress(done, total, landed)
    return report


def _remove_leaving_debris(cursor: Any, batch: Batch) -> None:
    """Remove a batch's staged copies. A REMOVE that fails leaves debris, not an error: the batch is committed
    or rolled back already, a later run sweeps the folder (``sweep_staged``), and a load's own error stays the
    one raised."""
    try:
        remove_staged(cursor, batch)
    except Exception as exc:
        log.warning("could not remove the staged folder %s (a later run sweeps it): %s", batch.internal_folder, exc)
