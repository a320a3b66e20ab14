"""The ELT steps as the DAGs and the CLI call them: connections in, plain results out.

Connections come from Airflow connection ids (``AIRFLOW_CONN_*`` in the environment or the metadata
database). The S3 client is the Amazon provider's, so the AWS connection's ``endpoint_url`` extra (the
local emulator) or the default credential chain (real AWS) applies, without a branch here.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mobile_events_elt.config.identifiers import identifier
from mobile_events_elt.config.warehouse_settings import load_settings
from mobile_events_elt.warehouse import exclusion, listing_marker, loader, reports, setup, summary, transform
from mobile_events_elt.warehouse.log_text import shown


@dataclass(frozen=True)
class Landing:
    bucket: str
    # Where Firehose delivers records, and where it writes those it could not deliver (the load
    # quarantines them from there): each a fixed folder with the prefix that names its objects.
    landing: listing_marker.Folder
    errors: listing_marker.Folder

    @property
    def prefix(self) -> str:
        return self.landing.fixed

    @property
    def error_prefix(self) -> str:
        return self.errors.fixed

    @property
    def folders(self) -> tuple[listing_marker.Folder, listing_marker.Folder]:
        return (self.landing, self.errors)


log = logging.getLogger(__name__)


def landing() -> Landing:
    """Where Firehose delivers: the bucket, and for the prefix and the error output prefix the literal folder
    before the first expression and the prefix Firehose evaluates."""
    from mobile_events_elt.config import prefixes
    from mobile_events_elt.config.aws_settings import load_settings as load_aws_settings

    aws = load_aws_settings()
    firehose = aws.firehose
    return Landing(
        bucket=aws.bucket,
        landing=listing_marker.Folder(firehose.landing_prefix, prefixes.effective_prefix(firehose.prefix)),
        errors=listing_marker.Folder(
            firehose.error_prefix,
            prefixes.effective_error_prefix(firehose.prefix, firehose.error_output_prefix),
            error_output=True,
        ),
    )


@contextlib.contextmanager
def snowflake_without_database(conn_id: str | None = None, query_tag: str | None = None) -> Iterator[Any]:
    """A connection that may not have its database yet (setup creates it); its statements carry ``query_tag``."""
    from mobile_events_elt.config.snowflake_hook import PipelineSnowflakeHook

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
        return asdict(_load(conn, s3_client(aws_conn_id)))


def load_transform_check(
    snowflake_conn_id: str | None = None,
    aws_conn_id: str = "aws_default",
    caller: exclusion.Caller | None = None,
    listing: listing_marker.Listing | None = None,
    on_report_error: Callable[[str, str], None] | None = None,
    catch_up_seconds: float = 0.0,
) -> dict[str, Any]:
    """Load the new files of ``listing`` (this run's window, listed now when not given), build the dbt project
    (models and data tests) for them, and run the reports, all holding the pipeline's lease
    (``warehouse.exclusion``; ``caller`` names the run in it and in the sessions' QUERY_TAG).

    Until ``catch_up_seconds`` have passed, it then lists the window again (S3 only) and, when files landed
    meanwhile, loads and builds them in another pass on the same session and lease: what the run those files
    trigger would do, without a run's start-up (docs/architecture.md#freshness). A listing with nothing new
    ends the run, so an idle pipeline still sends no statement.

    Returns the load's report summed over the passes plus ``models`` (each model's rows and seconds, also
    logged one line per model), ``checks`` (each data test the builds ran, with its failing rows),
    ``report_errors`` (each failing report's error; ``on_report_error(report, error)`` hears of an error only
    when it is new, see ``reports.run_reports``), the seconds of each phase, ``passes`` and ``listing``, the
    last pass's listing (the one to remember). A failing data test raises ``transform.ChecksFailed`` once the
    load is committed (the batch stays queued: the next run builds and tests it again); a failing report never
    fails the run; a database at another schema version than the code's raises
    ``exclusion.SchemaVersionMismatch`` before anything is written."""
    caller = caller or exclusion.Caller.command("load_transform_check")
    s3 = s3_client(aws_conn_id)
    listing = listing or look(s3)[0]
    target = _dbt_target(snowflake_conn_id, caller.query_tag)
    passes: list[Pass] = []
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        started = time.monotonic()
        while True:
            passes.append(_pass(conn, s3, target, listing))
            if time.monotonic() - started >= catch_up_seconds:
                break
            newer, _ = look(s3, advance=False)
            if newer.fingerprint == listing.fingerprint:
                break
            log.info("files landed during the pass: another pass (%.1f s into the run)", time.monotonic() - started)
            listing = newer
        begun = time.monotonic()
        found = reports.run_reports(conn, alert=on_report_error)
        report_seconds = time.monotonic() - begun
    done = Pass.summed(passes)
    log.info("%d pass(es); %d data tests passed", len(passes), len(done.checks))
    return {
        **asdict(done.report),
        "models": done.models,
        "checks": done.checks,
        "seconds": {**done.seconds, "reports": round(report_seconds, 3)},
        "report_errors": found.errors,
        "passes": len(passes),
        "listing": listing,
    }


@dataclass
class Pass:
    """One pass of a run: its load's report, each model's rows and seconds, each data test's failing rows, and
    the seconds of its load and its transform."""

    report: loader.LoadReport
    models: dict[str, dict[str, float]]
    checks: dict[str, int]
    seconds: dict[str, float]

    @classmethod
    def summed(cls, passes: list[Pass]) -> Pass:
        """The passes as one: counts, rows and seconds added; files and keys of every pass; the unresolved
        files as the last pass saw them."""
        report = loader.LoadReport()
        models: dict[str, dict[str, float]] = {}
        checks: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for done in passes:
            for name in COUNTS:
                setattr(report, name, getattr(report, name) + getattr(done.report, name))
            report.failures.update(done.report.failures)
            report.rejected_keys.update(done.report.rejected_keys)
            report.unresolved = dict(done.report.unresolved)
            for model, figures in done.models.items():
                before = models.get(model, {"rows": 0, "seconds": 0.0})
                models[model] = {
                    "rows": before["rows"] + figures["rows"],
                    "seconds": round(before["seconds"] + figures["seconds"], 3),
                }
            for test, failing in done.checks.items():
                checks[test] = checks.get(test, 0) + failing
            for phase, spent in done.seconds.items():
                seconds[phase] = round(seconds.get(phase, 0.0) + spent, 3)
        return cls(report, models, checks, seconds)


# The load report's counts, which passes add up.
COUNTS = tuple(f.name for f in fields(loader.LoadReport) if f.type in ("int", int))


def _pass(conn: Any, s3: Any, target: Any, listing: listing_marker.Listing) -> Pass:
    """One pass of a run: the load of ``listing``'s new files and the build of everything loaded."""
    started = time.monotonic()
    report = _load(conn, s3, listing)
    loaded = time.monotonic()
    models, tests = _transform(conn, target)
    return Pass(report, models, tests, {"load": loaded - started, "transform": time.monotonic() - loaded})


def transform_only(snowflake_conn_id: str | None = None, caller: exclusion.Caller | None = None) -> dict[str, Any]:
    """Build the models (and their tests) for the files loaded since the last run, holding the pipeline's
    lease: each model's rows and seconds (as ``load_transform_check`` reports them)."""
    caller = caller or exclusion.Caller.command("transform")
    target = _dbt_target(snowflake_conn_id, caller.query_tag)
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        return _transform(conn, target)[0]


def docs(out: Path, snowflake_conn_id: str | None = None) -> Path:
    """dbt's docs site for the pipeline's database, as static files in ``out``; its page's path."""
    from mobile_events_elt.warehouse import dbt_runner

    settings = load_settings()
    target = dbt_runner.Target.of_airflow(snowflake_conn_id or settings.connection_id, settings.database)
    return dbt_runner.docs(target, out)


def _load(conn: Any, s3: Any, listing: listing_marker.Listing | None = None) -> loader.LoadReport:
    """Load ``listing``'s new files (a fresh listing when none is given) from every landing folder."""
    where = landing()
    listing = listing or look(s3)[0]
    folders = [(f.fixed, f.error_output, listing.objects.get(f.fixed, [])) for f in where.folders]
    report = loader.load_files(conn, s3, where.bucket, load_settings(), folders)
    log.info("loaded %d files (%d failed), %d rows", report.files_loaded, report.files_failed, report.rows_loaded)
    return report


def look(s3: Any, now: datetime | None = None, advance: bool = True) -> tuple[listing_marker.Listing, bool]:
    """This run's listing of the folders Firehose can still write to, and whether it is the last complete run's
    (``advance`` False: a reader's look, which never rewrites the marker)."""
    where, hours = landing(), load_settings().late_delivery_hours
    return listing_marker.look(s3, where.bucket, where.folders, timedelta(hours=hours), now, advance)


def recent_files(aws_conn_id: str = "aws_default") -> list[loader.LandedFile]:
    """The objects in the folders a run lists now (the late-delivery window since the last complete run); a
    read only: the marker is left as it is."""
    listing, _ = look(s3_client(aws_conn_id), advance=False)
    return [f for found in listing.objects.values() for f in found]


def _transform(conn: Any, target: Any) -> tuple[dict[str, dict[str, float]], dict]:
    """Every model's rows and seconds and every data test's failing rows (dbt's run results), dbt logging in
    as ``target`` (``_dbt_target``: as the Airflow connection does, with the caller's QUERY_TAG)."""

    def report(result: transform.StepResult) -> None:
        log.info("model %-20s %10d rows %8.2f s", result.step, result.rows, result.seconds)

    results = transform.run_batch(conn, on_step=report, target=target)
    return {r.step: {"rows": r.rows, "seconds": round(r.seconds, 3)} for r in results}, results.tests


def _dbt_target(conn_id: str | None, query_tag: str | None) -> Any:
    from mobile_events_elt.warehouse.dbt_runner import Target

    return Target.of_airflow(conn_id or load_settings().connection_id, load_settings().database, query_tag)


# The model that writes each analytics table (sql/models/marts/), for the table's asset event.
MODEL_OF_TABLE = {"orders": "orders", "events": "events", "users": "users", "purchase_counts": "purchase_counts"}


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
    records are in no table and no quarantine until a person replaces the object or replays it. The message
    names at most 20, each key and reason cut and escaped: a key or a reason can be anything a writer sent."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        named = "; ".join(f"{shown(name)} ({shown(why)})" for name, why in sorted(files.items())[:20])
        more = f" and {len(files) - 20} more" if len(files) > 20 else ""
        super().__init__(
            f"{len(files)} delivered file(s) could not be loaded: {named}{more}. Replace each object in S3 with "
            "a readable one under a safe key (a new version loads by itself), or, once its records are dealt "
            "with, have an administrator remove it (the bucket policy denies deletes under the delivery folders)"
        )


def needing_attention(report: dict[str, Any]) -> dict[str, str]:
    """What a load report leaves unresolved: files FAILED or keys rejected, by this run or earlier ones."""
    return {
        **report["unresolved"],
        **{name: f"FAILED: {why}" for name, why in report["failures"].items()},
        **{name: f"REJECTED_KEY: {why}" for name, why in report["rejected_keys"].items()},
    }


def find_new_files(aws_conn_id: str = "aws_default", now: datetime | None = None) -> listing_marker.Listing | None:
    """The S3 listing if it differs from the last complete run's, else None. Touches no warehouse.

    An unchanged listing whose newest file is older than ``freshness_hours`` raises NothingDelivered: the
    warehouse is not touched when nothing is new, and a silent source must still fail a run (and alert). One whose
    last complete run left files unresolved raises FilesNeedAttention, for the same reason.
    """
    listing, unchanged = look(s3_client(aws_conn_id), now)
    log.info("listed %d files in the window (%d S3 requests)", listing.files, listing.requests)
    if unchanged:
        log.info("nothing delivered, replaced or removed since the last complete run")
        if listing.unresolved:
            raise FilesNeedAttention(listing.unresolved)
        hours = load_settings().freshness_hours
        now = now or datetime.now(UTC)
        if listing.newest and datetime.fromisoformat(listing.newest) < now - timedelta(hours=hours):
            raise NothingDelivered(f"no file delivered for over {hours} h (newest: {listing.newest})")
        return None
    log.info("the listing changed since the last complete run: loading")
    return listing


def remember_listing(
    listing: listing_marker.Listing, unresolved: dict[str, str] | None = None, aws_conn_id: str = "aws_default"
) -> bool:
    """Record a listing as fully processed, with the files it leaves unresolved (call once load, transforms
    and data tests all succeeded)."""
    s3 = s3_client(aws_conn_id)
    recorded = listing_marker.remember(s3, landing().bucket, listing, unresolved)
    if not recorded:
        log.info("the listing marker was reset during this run (a replay?): the next run does the work again")
    return recorded


def check(snowflake_conn_id: str | None = None, caller: exclusion.Caller | None = None) -> dict[str, int]:
    """Run the reports, then every data test on the whole tables (``transform.test_tables``), holding the
    pipeline's lease, so they see the tables between runs, never half-way through one."""
    caller = caller or exclusion.Caller.command("check")
    with exclusive_snowflake(snowflake_conn_id, caller) as conn:
        reports.run_reports(conn)
        target = _dbt_target(snowflake_conn_id, caller.query_tag)
        return transform.test_tables(conn, load_settings().freshness_hours, target)


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
    from mobile_events_elt.warehouse import maintenance

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
    # listing, and a run that reads it after lists the forgotten files' hours again and loads them.
    late = timedelta(hours=load_settings().late_delivery_hours)
    oldest = min((f.last_modified for f in forgotten if f.last_modified), default=datetime.now(UTC))
    listing_marker.reset(s3, where.bucket, since=oldest - late)
    return [f.key for f in forgotten]
