"""The transforms: each run builds the dbt project (sql/, docs/transforms.md) for the files loaded since the
last finished run, one batch at a time.

A batch claims files from the transform queue, the loaded files not yet transformed (``claim_batch``: whole
files, oldest first, up to ``MAX_BATCH_ROWS`` records, so a backlog is done in slices whose working set stays
bounded), reads its bounds (its load window and the dedup horizon, ``sql/transform/bounds/``), runs one
``dbt build`` with them as vars (literals in every statement, so that Snowflake prunes by them:
docs/bounded-work.md) and the pipeline's lease (each mart re-validates it before it writes, so a run that was
fenced off writes nothing more), then marks the files done (``finish_batch``); then the next slice, until no
loaded file is left. The build runs the models' and the project's tests: a failing test fails the run before
the batch is finished, so the next run redoes the batch (every model is keyed on a deterministic id, so
running it again on the same data changes nothing) and tests it again. The claim and the finish run on the
caller's connection, in transactions that re-validate the lease. The run's result says what it transformed
(``scope``), which the checks are bounded to.
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
_PENDING = "select count(*) from raw.transform_queue"
log = logging.getLogger(__name__)
# What a mart's pre-hook raises when the lease was taken over (sql/macros/fence_lease.sql).
FENCED = "lost the pipeline's lease"
_EVER, _NEVER = datetime(1900, 1, 1), datetime(9999, 1, 1)
SCOPE_FIELDS = ("since", "dedup_since", "purchases_from", "purchases_until")


@dataclass(frozen=True)
class StepResult:
    step: str
    rows: int  # rows the step changed, as the database reports them
    seconds: float


class ChecksFailed(AssertionError):
    """Data tests (dbt's, or the SQL checks) found rows: {test: failing rows}."""

    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        detail = "; ".join(f"{name}: {count} failing rows" for name, count in failures.items())
        super().__init__(f"{len(failures)} data-quality check(s) failed: {detail}")


@dataclass(frozen=True)
class Scope:
    """What the checks look at: the rows of the files loaded since ``since``, checked for copies among the rows
    written since ``dedup_since`` (the dedup horizon), and the purchases of event days ``purchases_from`` to
    ``purchases_until`` (exclusive)."""

    since: datetime
    dedup_since: datetime
    purchases_from: datetime
    purchases_until: datetime

    @classmethod
    def everything(cls) -> Scope:
        """Whole tables: what a check run on its own (``mobile-events-warehouse check``) looks at."""
        return cls(_EVER, _EVER, _EVER, _NEVER)

    @classmethod
    def nothing(cls) -> Scope:
        """A run that transformed nothing: no rows to check."""
        return cls(_NEVER, _NEVER, _NEVER, _NEVER)

    @classmethod
    def of_batch(cls, bounds: Mapping[str, Any]) -> Scope:
        """What one batch wrote, from its bounds (sql/transform/bounds/); its purchase days if it had any."""
        days = (bounds["purchases_from"], bounds["purchases_until"]) if bounds["purchases"] else (_NEVER, _NEVER)
        return cls(bounds["batch_landed_from"] or _NEVER, bounds["dedup_since"] or _NEVER, *days)

    def union(self, other: Scope) -> Scope:
        """Both scopes: the earlier bounds, and purchase days from the first to the last of either."""
        days = [(s.purchases_from, s.purchases_until) for s in (self, other) if s.purchases_from < s.purchases_until]
        return Scope(
            min(self.since, other.since),
            min(self.dedup_since, other.dedup_since),
            min((start for start, _ in days), default=_NEVER),
            max((end for _, end in days), default=_NEVER),
        )

    def params(self) -> dict[str, datetime]:
        return {name: getattr(self, name) for name in SCOPE_FIELDS}


class RunResult(list[StepResult]):
    """Each step's rows and seconds, summed over the run's batches, and ``scope``: what the run transformed."""

    def __init__(self, steps: Iterable[StepResult], scope: Scope) -> None:
        super().__init__(steps)
        self.scope = scope


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
    seconds, summed over the batches, and the run's scope. A claim of nothing ends the run before dbt starts.
    ``target``: where dbt connects (by default the login of ``conn``, with the lease's QUERY_TAG)."""
    totals = {step: StepResult(step, 0, 0.0) for step in STEPS}
    horizon = load_settings().dedup_horizon_days if dedup_horizon_days is None else dedup_horizon_days
    scope = Scope.nothing()
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
            return RunResult(totals.values(), scope)
        bounds = batch_bounds(conn, batch_id, horizon)
        for result in build(conn, bounds, target):
            done(result)
        bounds.update(_bounds(conn, "transform/bounds/staged.sql", bounds))
        started = time.monotonic()
        finished = _write(cursor, "transform/finish_batch.sql", bounds)
        done(StepResult("finish_batch", finished, time.monotonic() - started))
        scope = scope.union(Scope.of_batch(bounds))
        if not cursor.execute(_PENDING).fetchone()[0]:
            return RunResult(totals.values(), scope)
        batch_id = new_batch_id()


def build(
    conn: Any, bounds: Mapping[str, Any], target: dbt_runner.Target | None = None, command: Sequence[str] = ("build",)
) -> list[StepResult]:
    """One ``dbt build`` of the claimed batch (``bounds``: its id and the claimed bounds); each model's rows and
    seconds from dbt's run results. A data test that finds rows raises ``checks.ChecksFailed`` (the batch is
    not finished: the next run redoes and tests it again); a run whose lease was taken over
    ``exclusion.Fenced`` (its marts write nothing more); a failing model ``dbt_runner.BuildFailed``."""
    lease = exclusion.current()
    target = target or dbt_runner.Target.of_connector(conn, lease.caller.query_tag if lease else None)
    try:
        nodes = dbt_runner.invoke(target, list(command), variables(bounds, target.query_tag))
    except dbt_runner.BuildFailed as exc:
        if exc.failing_tests:  # bad data, as the checks report it: the batch stays queued and is tested again
            raise ChecksFailed(exc.failing_tests) from exc
        if any(FENCED in message for message in exc.failures.values()):
            raise exclusion.Fenced(f"{lease.caller.who if lease else 'this run'} {FENCED}: {exc}") from exc
        raise
    for node in nodes:
        if node.kind != "model":
            log.debug("dbt %s %s: %s", node.kind, node.node, node.status)
    return [StepResult(node.node, node.rows, node.seconds) for node in nodes if node.kind == "model"]


def variables(bounds: Mapping[str, Any], query_tag: str | None = None) -> dict[str, Any]:
    """The dbt vars of a batch: its id and bounds as literals, the lease held in this context, and the QUERY_TAG
    of dbt's sessions (by default the lease holder's)."""
    lease = exclusion.current()
    query_tag = query_tag or (lease.caller.query_tag if lease else None)
    return {
        "batch_id": bounds["batch_id"],
        "batch_landed_from": _literal(bounds["batch_landed_from"]),
        "batch_loaded_until": _literal(bounds["batch_loaded_until"]),
        "dedup_since": _literal(bounds["dedup_since"]),
        "lease_token": lease.token if lease else None,
        "lease_ttl_seconds": exclusion.TTL_SECONDS,
        "query_tag": query_tag,
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
        bounds.update(_bounds(conn, "transform/bounds/staged.sql", bounds))
        return _write(conn.cursor(), "transform/finish_batch.sql", bounds)
    return sum(result.rows for result in build(conn, bounds, target, ["run", "--select", step]))


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
