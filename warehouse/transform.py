"""The transforms: each run builds the dbt project (sql/, docs/transforms.md) for the files loaded since the
last finished run, one batch at a time.

A batch claims files from the transform queue, the loaded files not yet transformed (``claim_batch``: whole
files, oldest first, up to ``MAX_BATCH_ROWS`` records, so a backlog is done in slices whose working set stays
bounded), reads its bounds (its load window and the dedup horizon, ``sql/transform/bounds/``), runs one
``dbt build`` with them as vars (literals in every statement, so that Snowflake prunes by them:
docs/bounded-work.md) and the pipeline's lease (each mart re-validates it before it writes, so a run that was
fenced off writes nothing more), then marks the files done (``finish_batch``); then the next slice, until no
loaded file is left. The build runs the models' and the project's data tests on what the batch wrote: a
failing test fails the run before the batch is finished, so the next run claims the batch's files again
(every model is keyed on a deterministic id, so building it again on the same data changes nothing) and
tests them again, until a person repairs the cause (docs/decisions/0006-data-tests-in-the-build.md). The
claim and the finish run on the caller's connection, in transactions that re-validate the lease.
``test_tables`` runs the same tests on the whole tables (``mobile-events-warehouse check``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mobile_events_elt.config.warehouse_settings import load_settings
from mobile_events_elt.warehouse import dbt_runner, exclusion, sql_files
from mobile_events_elt.warehouse.transactions import transaction

# The steps of a batch, in order: the claim, the project's models (dbt's run results), the finish.
MODELS = ["rejected_events", "orders", "events", "users", "purchase_counts", "drift_observations"]
STEPS = ["claim_batch", "int_events_validated", *MODELS, "finish_batch"]
# Records a batch claims (in whole files, at least one): the staging table and its sorts scale with it
# (1M records: about 1.6x the plain baseline's peak emulator memory, benchmarks/bench_warehouse.py).
MAX_BATCH_ROWS = 1_000_000
# The tests a batch's build leaves out: those of the whole tables (sql/tests/freshness.sql), run by test_tables.
WHOLE_TABLES = "tag:whole_tables"
BUILD = ("build", "--exclude", WHOLE_TABLES)
# The tests a test of the whole tables leaves out: the intermediate model's, on one batch's validated events.
ONE_BATCH = "tag:one_batch"
# A test of the whole tables: every transformed file (batch id '*', sql/macros/whole_tables.sql), all time.
_WHOLE = {"batch_id": "*", "batch_landed_from": "1900-01-01 00:00:00", "batch_loaded_until": "9999-01-01 00:00:00"}
log = logging.getLogger(__name__)
# What a mart's pre-hook raises when the lease was taken over (sql/macros/fence_lease.sql).
FENCED = "lost the pipeline's lease"


@dataclass(frozen=True)
class StepResult:
    step: str
    rows: int  # rows the step changed, as the database reports them
    seconds: float


class ChecksFailed(AssertionError):
    """Data tests found rows: {test: failing rows}."""

    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        detail = "; ".join(f"{name}: {count} failing rows" for name, count in failures.items())
        super().__init__(f"{len(failures)} data test(s) failed: {detail}")


class RunResult(list[StepResult]):
    """Each step's rows and seconds, summed over the run's batches, and ``tests``: the data tests the run's
    builds ran, each with its failing rows (none: the run built nothing)."""

    def __init__(self, steps: Iterable[StepResult], tests: Mapping[str, int]) -> None:
        super().__init__(steps)
        self.tests = dict(tests)


def new_batch_id() -> str:
    return uuid.uuid4().hex


def run_batch(
    conn: Any,
    batch_id: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    max_rows: int = MAX_BATCH_ROWS,
    dedup_horizon_days: int | None = None,
    target: dbt_runner.Target | None = None,
) -> RunResult:
    """Claim, build and finish batch after batch (the first one ``batch_id``) until no loaded file is left
    untransformed, timing each step (``on_step`` hears of each as it ends); returns each step's rows and
    seconds, summed over the batches, and the tests the builds ran. A claim of nothing ends the run before
    dbt starts. ``target``: where dbt connects (by default the login of ``conn``, with the lease's QUERY_TAG)."""
    totals = {step: StepResult(step, 0, 0.0) for step in STEPS}
    tests: dict[str, int] = {}
    horizon = load_settings().dedup_horizon_days if dedup_horizon_days is None else dedup_horizon_days
    batch_id = batch_id or new_batch_id()
    cursor = conn.cursor()

    def done(result: StepResult) -> None:
        previous = totals.get(result.step, StepResult(result.step, 0, 0.0))
        totals[result.step] = StepResult(result.step, previous.rows + result.rows, previous.seconds + result.seconds)
        if on_step:
            on_step(result)

    while True:
        started = time.monotonic()
        claimed = _write(cursor, "transform/claim_batch.sql", {"batch_id": batch_id, "max_rows": max_rows})
        done(StepResult("claim_batch", claimed, time.monotonic() - started))
        if not claimed:
            return RunResult(totals.values(), tests)
        bounds = batch_bounds(conn, batch_id, horizon)
        for node in build(conn, bounds, target):
            if node.kind == "model":
                done(StepResult(node.node, node.rows, node.seconds))
            else:
                tests[node.node] = tests.get(node.node, 0) + node.failures
        started = time.monotonic()
        finished = _write(cursor, "transform/finish_batch.sql", bounds)
        done(StepResult("finish_batch", finished, time.monotonic() - started))
        if not bounds["left_queued"]:
            return RunResult(totals.values(), tests)
        batch_id = new_batch_id()


def build(
    conn: Any, bounds: Mapping[str, Any], target: dbt_runner.Target | None = None, command: Sequence[str] = BUILD
) -> list[dbt_runner.NodeResult]:
    """One ``dbt build`` of the claimed batch (``bounds``: its id and the claimed bounds): each model's and
    test's result. A data test that finds rows raises ``ChecksFailed`` (the batch is not finished: the next run
    builds and tests it again); a run whose lease was taken over ``exclusion.Fenced`` (its marts write nothing
    more); a failing model ``dbt_runner.BuildFailed``."""
    return _invoke(conn, target, command, variables(bounds))


def test_tables(conn: Any, freshness_hours: int, target: dbt_runner.Target | None = None) -> dict[str, int]:
    """Every data test of the project on the whole tables (every transformed file, every purchase day, the
    newest load younger than ``freshness_hours``): {test: failing rows}, all 0, or ``ChecksFailed``. Reads
    what is kept: for a person or a schedule of its own, never a run's."""
    whole = {**_WHOLE, "dedup_since": _WHOLE["batch_landed_from"], "freshness_hours": freshness_hours}
    nodes = _invoke(conn, target, ["test", "--exclude", ONE_BATCH], {**lease_variables(), **whole})
    return {node.node: node.failures for node in nodes if node.kind == "test"}


def _invoke(
    conn: Any, target: dbt_runner.Target | None, command: Sequence[str], dbt_vars: Mapping[str, Any]
) -> list[dbt_runner.NodeResult]:
    lease = exclusion.current()
    target = target or dbt_runner.Target.of_connector(conn, lease.caller.query_tag if lease else None)
    try:
        nodes = dbt_runner.invoke(
            target, list(command), {**dbt_vars, "query_tag": target.query_tag or dbt_vars.get("query_tag")}
        )
    except dbt_runner.BuildFailed as exc:
        if exc.failing_tests:  # bad data, as the tests report it: the batch stays queued and is tested again
            raise ChecksFailed(exc.failing_tests) from exc
        if any(FENCED in message for message in exc.failures.values()):
            raise exclusion.Fenced(f"{lease.caller.who if lease else 'this run'} {FENCED}: {exc}") from exc
        raise
    for node in nodes:
        if node.kind == "test":
            log.debug("dbt test %s: %s", node.node, node.status)
    return nodes


def variables(bounds: Mapping[str, Any]) -> dict[str, Any]:
    """The dbt vars of a batch: its id and bounds as literals, and the lease vars (``lease_variables``)."""
    return {
        "batch_id": bounds["batch_id"],
        "batch_landed_from": _literal(bounds["batch_landed_from"]),
        "batch_loaded_until": _literal(bounds["batch_loaded_until"]),
        "dedup_since": _literal(bounds["dedup_since"]),
        **lease_variables(),
    }


def lease_variables() -> dict[str, Any]:
    """The dbt vars of the lease held in this context: its token and time to live (the marts' writes re-validate
    it), and the QUERY_TAG of dbt's sessions, the lease holder's."""
    lease = exclusion.current()
    return {
        "lease_token": lease.token if lease else None,
        "lease_ttl_seconds": exclusion.TTL_SECONDS,
        "query_tag": lease.caller.query_tag if lease else None,
    }


def batch_bounds(conn: Any, batch_id: str, dedup_horizon_days: int | None = None) -> dict[str, Any]:
    """A claimed batch's id, dedup horizon and bounds (sql/transform/bounds/claimed.sql)."""
    horizon = load_settings().dedup_horizon_days if dedup_horizon_days is None else dedup_horizon_days
    bounds: dict[str, Any] = {"dedup_horizon_days": horizon, "batch_id": batch_id}
    bounds.update(_bounds(conn, "transform/bounds/claimed.sql", bounds))
    return bounds


def run_step(
    conn: Any, step: str, batch_id: str, max_rows: int = MAX_BATCH_ROWS, target: dbt_runner.Target | None = None
) -> int:
    """One step of a batch on its own (by hand, or a test interleaving two writers): the claim, one model
    (``dbt run --select``, its writes fenced by the lease held in this context) or the finish; its rows."""
    if step not in STEPS:
        raise ValueError(f"unknown transform step {step!r}; known: {', '.join(STEPS)}")
    if step == "claim_batch":
        return _write(conn.cursor(), "transform/claim_batch.sql", {"batch_id": batch_id, "max_rows": max_rows})
    with transaction(conn.cursor()):
        pass  # re-validates the lease held in this context: a run that lost it goes no further
    bounds = batch_bounds(conn, batch_id)
    if bounds["batch_landed_from"] is None:
        return 0  # no file claimed by this batch (any more)
    if step == "finish_batch":
        return _write(conn.cursor(), "transform/finish_batch.sql", bounds)
    return sum(node.rows for node in build(conn, bounds, target, ["run", "--select", step]) if node.kind == "model")


def compiled_model(conn: Any, model: str, batch_id: str, target: dbt_runner.Target | None = None) -> str:
    """The SELECT a model runs for a claimed batch, as dbt compiles it (to read, or to run by hand)."""
    target = target or dbt_runner.Target.of_connector(conn)
    command = ["compile", "--indirect-selection", "empty", "--select", model]
    nodes = dbt_runner.invoke(target, command, variables(batch_bounds(conn, batch_id)))
    return next(node.compiled for node in nodes if node.node == model)


def _literal(moment: datetime) -> str:
    """A bound as the models' literal: ``YYYY-MM-DD HH:MM:SS.ffffff`` (TIMESTAMP_NTZ, UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _write(cursor: Any, relative: str, params: Mapping[str, Any]) -> int:
    """The statements of one file in a transaction that re-validates the lease; the rows they changed."""
    changed = 0
    with transaction(cursor):
        for stmt in sql_files.statements(relative):
            cursor.execute(stmt, dict(params))
            changed += max(cursor.rowcount or 0, 0)
    return changed


def _bounds(conn: Any, relative: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The one row of a bound query, by column name (lower case)."""
    cursor = conn.cursor()
    (row,) = sql_files.run_file(cursor, relative, params)
    return {column[0].lower(): value for column, value in zip(cursor.description, row, strict=True)}


def run_all(conn: Any, batch_id: str | None = None) -> dict[str, int]:
    return {result.step: result.rows for result in run_batch(conn, batch_id)}
