"""The ELT steps as the DAGs and the CLI call them: connections in, plain results out.

Connections come from Airflow connection ids (``AIRFLOW_CONN_*`` in the environment or the metadata
database). The S3 client is the Amazon provider's, so the AWS connection's ``endpoint_url`` extra (the
local emulator) or the default credential chain (real AWS) applies, without a branch here.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse import checks, exclusion, listing_marker, loader, setup, summary, transform
from warehouse.identifiers import identifier
from warehouse.settings import load_settings


@dataclass(frozen=True)
class Landing:
    bucket: str
    prefix: str
    # Where Firehose writes the records it could not deliver; the load quarantines them from there.
    error_prefix: str

    @property
    def folders(self) -> tuple[str, str]:
        return (self.prefix, self.error_prefix)


log = logging.getLogger(__name__)


def landing() -> Landing:
    """Where Firehose delivers: the bucket and the literal folders before the first expression of the
    prefix and of the error output prefix."""
    from aws_infrastructure.settings import load_settings as load_aws_settings

    aws = load_aws_settings()
    return Landing(bucket=aws.bucket, prefix=aws.firehose.landing_prefix, error_prefix=aws.firehose.error_prefix)


@contextlib.contextmanager
def snowflake_without_database(conn_id: str | None = None, query_tag: str | None = None) -> Iterator[Any]:
    """A connection that may not have its database yet (setup creates it); its statements carry ``query_tag``."""
    from warehouse.snowflake_hook import PipelineSnowflakeHook

    hook = PipelineSnowflakeHook(snowflake_conn_id=conn_id or load_settings().connection_id, query_tag=query_tag)
    conn = hook.get_conn()
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def snowflake(conn_id: str | None = None, query_tag: str | None = None) -> Iterator[Any]:
    """A connection using the pipeline's database (from config, whatever the connection's default)."""
    with snowflake_without_database(conn_id, query_tag) as conn:
        use_database(conn, load_settings().database)
        yield conn


@contextlib.contextmanager
def exclusive_snowflake(conn_id: str | None, caller: exclusion.Caller) -> Iterator[Any]:
    """A connection for a writer: tagged with ``caller``'s QUERY_TAG and holding the pipeline's lease, taken
    only if the database has the schema version this code expects (``warehouse.exclusion``)."""
    with snowflake(conn_id, caller.query_tag) as conn, exclusion.held(conn, caller, setup.schema_version()):
        yield conn


def use_database(conn: Any, database: str) -> None:
    """Make the pipeline's database and its RAW schema current (every statement names its schema anyway)."""
    cursor = conn.cursor()
    cursor.execute(f"use database {identifier(database, 'database')}")
    cursor.execute("use schema raw")


def s3_client(aws_conn_id: str = "aws_default") -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=aws_conn_id).get_conn()


def load(
    snowflake_conn_id: str | None = None, aws_conn_id: str = "aws_default", caller: exclusion.Caller | None = None
) -> dict[str, Any]:
    """Load the new files, holding the pipeline's lease (``warehouse.exclusion``)."""
    caller = caller or exclusion.Caller.command("load")
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        return _load(conn, aws_conn_id)


def load_transform_check(
    snowflake_conn_id: str | None = None, aws_conn_id: str = "aws_default", caller: exclusion.Caller | None = None
) -> dict[str, Any]:
    """Load the new files, run every model, run the checks, all on one connection and holding the pipeline's
    lease (``warehouse.exclusion``; ``caller`` names the run in it and in the sessions' QUERY_TAG): the load's
    report plus ``models`` (each model's rows and seconds, also logged one line per model), ``checks`` and the
    seconds of each phase. A failed check raises ``checks.ChecksFailed`` once everything before it is
    committed; a database at another schema version than the code's, ``exclusion.SchemaVersionMismatch``
    before anything is written."""
    caller = caller or exclusion.Caller.command("load_transform_check")
    seconds = {}
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        started = time.monotonic()
        report = _load(conn, aws_conn_id)
        seconds["load"], started = time.monotonic() - started, time.monotonic()
        models = _transform(conn)
        seconds["transform"], started = time.monotonic() - started, time.monotonic()
        results = checks.run_checks(conn)
        seconds["checks"] = time.monotonic() - started
    log.info("checks passed: %s", ", ".join(f"{name} {failures}" for name, failures in results.items()))
    phases = {phase: round(value, 3) for phase, value in seconds.items()}
    return {**report, "models": models, "checks": results, "seconds": phases}


def _load(conn: Any, aws_conn_id: str) -> dict[str, Any]:
    where = landing()
    report = loader.load_new_files(
        conn, s3_client(aws_conn_id), where.bucket, where.prefix, load_settings(), error_prefix=where.error_prefix
    )
    log.info("loaded %d files (%d failed), %d rows", report.files_loaded, report.files_failed, report.rows_loaded)
    return asdict(report)


def _transform(conn: Any) -> dict[str, dict[str, float]]:
    def report(result: transform.StepResult) -> None:
        log.info("model %-20s %10d rows %8.2f s", result.step, result.rows, result.seconds)

    results = transform.run_batch(conn, on_step=report)
    return {r.step: {"rows": r.rows, "seconds": round(r.seconds, 3)} for r in results}


# The model that writes each analytics table (sql/transform/), for the table's asset event.
MODEL_OF_TABLE = {
    "orders": "03_orders",
    "events": "04_events",
    "users": "05_users",
    "purchase_counts": "06_purchase_counts",
}


def asset_extras(done: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What each analytics table's asset event carries (``extra``, shown on the asset's page in the UI): its
    model's rows changed and seconds in this run, with the run's files and rows loaded. The models run in
    one task, so this is where the UI shows each one's work."""
    models = done["models"]
    run = {"files_loaded": done["files_loaded"], "rows_loaded": done["rows_loaded"]}
    return {
        table: {"model": model, "rows_changed": int(models[model]["rows"]), "seconds": models[model]["seconds"], **run}
        for table, model in MODEL_OF_TABLE.items()
    }


class NothingDelivered(Exception):
    """No file landed for longer than the freshness limit: what the freshness check says, found in S3."""


class FilesNeedAttention(Exception):
    """Files parked FAILED (unreadable) or keys REJECTED_KEY, neither replaced nor replayed since: their
    records are in no table and no quarantine until a person replaces the object or replays it."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        named = "; ".join(f"{name} ({why})" for name, why in sorted(files.items())[:20])
        more = f" and {len(files) - 20} more" if len(files) > 20 else ""
        super().__init__(
            f"{len(files)} delivered file(s) could not be loaded: {named}{more}. Replace each object in S3 with "
            "a readable one under a safe key (a new version loads by itself), or remove it once its records "
            "are dealt with"
        )


def needing_attention(report: dict[str, Any]) -> dict[str, str]:
    """What a load report leaves unresolved: files FAILED or keys rejected, by this run or earlier ones."""
    return {
        **report["unresolved"],
        **{name: f"FAILED: {why}" for name, why in report["failures"].items()},
        **{name: f"REJECTED_KEY: {why}" for name, why in report["rejected_keys"].items()},
    }


def find_new_files(aws_conn_id: str = "aws_default", now: datetime | None = None) -> dict[str, Any] | None:
    """The S3 listing if it differs from the last complete run's, else None. Touches no warehouse.

    An unchanged listing whose newest file is older than ``freshness_hours`` raises NothingDelivered: the
    checks do not run when nothing is new, and a silent source must still fail a run (and alert). One whose
    last complete run left files unresolved raises FilesNeedAttention, for the same reason.
    """
    where = landing()
    listing, unchanged = listing_marker.look(s3_client(aws_conn_id), where.bucket, where.folders)
    if unchanged:
        log.info("nothing delivered, replaced or removed since the last complete run (%d files)", listing.files)
        if listing.unresolved:
            raise FilesNeedAttention(listing.unresolved)
        hours = load_settings().freshness_hours
        now = now or datetime.now(UTC)
        if listing.newest and datetime.fromisoformat(listing.newest) < now - timedelta(hours=hours):
            raise NothingDelivered(f"no file delivered for over {hours} h (newest: {listing.newest})")
        return None
    log.info("the listing changed since the last complete run (%d files now): loading", listing.files)
    return asdict(listing)


def remember_listing(
    listing: dict[str, Any], unresolved: dict[str, str] | None = None, aws_conn_id: str = "aws_default"
) -> bool:
    """Record a listing as fully processed, with the files it leaves unresolved (call once load, transforms
    and checks all succeeded)."""
    s3 = s3_client(aws_conn_id)
    recorded = listing_marker.remember(s3, landing().bucket, listing_marker.Listing(**listing), unresolved)
    if not recorded:
        log.info("the listing marker was reset during this run (a replay?): the next run does the work again")
    return recorded


def check(snowflake_conn_id: str | None = None, caller: exclusion.Caller | None = None) -> dict[str, int]:
    """Run the checks holding the pipeline's lease, so they see the tables between runs, never half-way through one."""
    caller = caller or exclusion.Caller.command("check")
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        return checks.run_checks(conn)


def counts(snowflake_conn_id: str | None = None) -> dict[str, int]:
    with snowflake(snowflake_conn_id) as conn:
        return summary.table_counts(conn)


def replay(
    since: str,
    until: str,
    snowflake_conn_id: str | None = None,
    aws_conn_id: str = "aws_default",
    caller: exclusion.Caller | None = None,
) -> list[str]:
    """Forget the files delivered in [since, until) (ISO-8601, UTC if no zone) so the next run reloads them;
    holding the pipeline's lease, so no load or transform runs meanwhile."""
    from warehouse import maintenance

    def parse(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    start, end = parse(since), parse(until)
    if end <= start:
        raise ValueError(f"replay window is empty: until ({until}) must be after since ({since})")
    where = landing()
    s3 = s3_client(aws_conn_id)
    caller = caller or exclusion.Caller.command("replay")
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        forgotten = maintenance.replay(conn, s3, where.bucket, where.prefix, start, end)
    # After the files are forgotten: a run that read the marker before this can no longer record its
    # listing, and a run that reads it after loads them again.
    listing_marker.reset(s3, where.bucket)
    return forgotten
