"""The transforms: each run processes only the files loaded since the last finished run.

A run claims files from the transform queue, the loaded files not yet transformed (``00_claim_batch``: whole
files, oldest first, up to ``MAX_BATCH_ROWS`` records, so a backlog is done in slices whose working set stays
bounded), reads the batch's bounds (its load window and the dedup horizon, ``sql/transform/bounds/``, bound
into the later statements as constants so that Snowflake prunes by them: docs/bounded-work.md), builds the
batch's validated, deduplicated staging table (a temporary table of this session, so every step runs on
one connection), writes it into quarantine and the analytics tables (an anti-join INSERT for the
insert-only models, a MERGE for users and purchase counts), and marks the files done (``08_finish_batch``);
then the next slice, until no loaded file is left. Every model is one statement keyed on a deterministic
id, so running the whole sequence again on the same data changes nothing; a run that died half-way leaves
its files unfinished and the next run redoes them. The writes run in transactions that re-validate the
pipeline's lease (``warehouse.exclusion``), so a run that was fenced off writes nothing more. The run's
result says what it transformed (``scope``), which the checks are bounded to.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from mobile_events_elt.config.warehouse_settings import load_settings
from mobile_events_elt.warehouse import sql_files
from mobile_events_elt.warehouse.transactions import transaction

STEPS = [PurePosixPath(p).stem for p in sql_files.files("transform")]
# Records a batch claims (in whole files, at least one): the staging table and its sorts scale with it
# (1M records: about 1.6x the plain baseline's peak emulator memory, benchmarks/bench_warehouse.py).
MAX_BATCH_ROWS = 1_000_000
_DDL = re.compile(r"\s*(create|alter|drop)\b", re.IGNORECASE)
_PENDING = "select count(*) from raw.transform_queue"
# After these steps, one row of bounds the later steps of the batch prune by (bound as constants).
_BOUNDS = {"00_claim_batch": "transform/bounds/claimed.sql", "01_stg_events": "transform/bounds/staged.sql"}
_EVER, _NEVER = datetime(1900, 1, 1), datetime(9999, 1, 1)
SCOPE_FIELDS = ("since", "dedup_since", "purchases_from", "purchases_until")


@dataclass(frozen=True)
class StepResult:
    step: str
    rows: int  # rows the step changed, as the database reports them
    seconds: float


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


class _Writes:
    """Consecutive write statements in one transaction: begun (re-validating the pipeline's lease, when one is
    held) at the first, committed before the next DDL statement (Snowflake would commit it there anyway) or
    when the block of ``stack`` ends; rolled back if the block fails. A run that was fenced off writes
    nothing, and a batch's models after its staging table commit together."""

    def __init__(self, cursor: Any, stack: ExitStack) -> None:
        self.cursor, self.stack, self.open = cursor, stack, False

    def execute(self, stmt: str, params: dict[str, Any]) -> int:
        if _DDL.match(stmt):
            self.commit()
        elif not self.open:
            self.stack.enter_context(transaction(self.cursor))
            self.open = True
        self.cursor.execute(stmt, params)
        return max(self.cursor.rowcount or 0, 0)

    def commit(self) -> None:
        if self.open:
            self.stack.close()
            self.open = False


def _run_step(writes: _Writes, step: str, batch_id: str, max_rows: int, bounds: Mapping[str, Any] | None = None) -> int:
    if step not in STEPS:
        raise ValueError(f"unknown transform step {step!r}; known: {', '.join(STEPS)}")
    params = {**(bounds or {}), "batch_id": batch_id, "max_rows": max_rows}
    return sum(writes.execute(stmt, params) for stmt in sql_files.statements(f"transform/{step}.sql"))


def step_params(
    conn: Any, step: str, batch_id: str, max_rows: int = MAX_BATCH_ROWS, dedup_horizon_days: int | None = None
) -> dict[str, Any]:
    """The parameters one step of a batch runs with: its batch, slice size, dedup horizon and the bounds the
    steps before it established (read now, on ``conn``: the staged bounds need the session's staging table)."""
    horizon = load_settings().dedup_horizon_days if dedup_horizon_days is None else dedup_horizon_days
    bounds: dict[str, Any] = {"dedup_horizon_days": horizon}
    for earlier, relative in _BOUNDS.items():
        if STEPS.index(step) > STEPS.index(earlier):
            bounds.update(_bounds(conn, relative, {**bounds, "batch_id": batch_id}))
    return {**bounds, "batch_id": batch_id, "max_rows": max_rows}


def run_step(
    conn: Any, step: str, batch_id: str, max_rows: int = MAX_BATCH_ROWS, bounds: Mapping[str, Any] | None = None
) -> int:
    """Run one model for the batch (``bounds``: what the batch's bound queries returned, with the dedup
    horizon; read now when not given), its writes in a transaction that re-validates the pipeline's lease when
    one is held; return the rows it changed (as the database reports them)."""
    if step not in STEPS:
        raise ValueError(f"unknown transform step {step!r}; known: {', '.join(STEPS)}")
    bounds = bounds if bounds is not None else step_params(conn, step, batch_id, max_rows)
    with ExitStack() as stack:
        return _run_step(_Writes(conn.cursor(), stack), step, batch_id, max_rows, bounds)


def run_batch(
    conn: Any,
    batch_id: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    max_rows: int = MAX_BATCH_ROWS,
    dedup_horizon_days: int | None = None,
) -> RunResult:
    """Run every model in order on one connection, batch after batch (the first one ``batch_id``) until no
    loaded file is left untransformed, timing each step (``on_step`` hears of each as it ends); returns each
    step's rows and seconds, summed over the batches, and the run's scope. A claim of nothing ends the run.

    A batch's write statements between its DDL run in one transaction that first re-validates the pipeline's
    lease when one is held (``exclusion.held``): the claim, then every model from quarantine to the finishing
    mark, which so commit together (and cost one validation, not one each)."""
    totals = {step: StepResult(step, 0, 0.0) for step in STEPS}
    horizon = load_settings().dedup_horizon_days if dedup_horizon_days is None else dedup_horizon_days
    scope = Scope.nothing()
    batch_id = batch_id or new_batch_id()
    cursor = conn.cursor()
    while True:
        bounds: dict[str, Any] = {"dedup_horizon_days": horizon}
        with ExitStack() as stack:
            writes = _Writes(cursor, stack)
            for step in STEPS:
                started = time.monotonic()
                rows = _run_step(writes, step, batch_id, max_rows, bounds)
                result = StepResult(step, rows, time.monotonic() - started)
                totals[step] = StepResult(step, totals[step].rows + rows, totals[step].seconds + result.seconds)
                if on_step:
                    on_step(result)
                if step == STEPS[0] and not rows:
                    return RunResult(totals.values(), scope)
                if step in _BOUNDS:
                    bounds.update(_bounds(conn, _BOUNDS[step], {**bounds, "batch_id": batch_id}))
        scope = scope.union(Scope.of_batch(bounds))
        if not cursor.execute(_PENDING).fetchone()[0]:
            return RunResult(totals.values(), scope)
        batch_id = new_batch_id()


def _bounds(conn: Any, relative: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The one row of a bound query, by column name (lower case)."""
    cursor = conn.cursor()
    (row,) = sql_files.run_file(cursor, relative, params)
    return {column[0].lower(): value for column, value in zip(cursor.description, row, strict=True)}


def run_all(conn: Any, batch_id: str | None = None) -> dict[str, int]:
    return {result.step: result.rows for result in run_batch(conn, batch_id)}
