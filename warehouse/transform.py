"""The transforms: each run processes only the files loaded since the last finished run.

A run claims the loaded files not yet transformed (``00_claim_batch``: whole files, oldest first, up to
``MAX_BATCH_ROWS`` records, so a backlog is done in slices whose working set stays bounded), builds the
batch's validated, deduplicated staging table (a temporary table of this session, so every step runs on
one connection), writes it into quarantine and the analytics tables (an anti-join INSERT for the
insert-only models, a MERGE for users and purchase counts), and marks the files done (``08_finish_batch``);
then the next slice, until no loaded file is left. Every model is one statement keyed on a deterministic
id, so running the whole sequence again on the same data changes nothing; a run that died half-way leaves
its files unfinished and the next run redoes them. The writes run in transactions that re-validate the
pipeline's lease (``warehouse.exclusion``), so a run that was fenced off writes nothing more.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from warehouse import sql_files
from warehouse.transactions import transaction

STEPS = [PurePosixPath(p).stem for p in sql_files.files("transform")]
# Records a batch claims (in whole files, at least one): the staging table and its sorts scale with it
# (1M records: about 1.6x the plain baseline's peak emulator memory, benchmarks/bench_warehouse.py).
MAX_BATCH_ROWS = 1_000_000
_DDL = re.compile(r"\s*(create|alter|drop)\b", re.IGNORECASE)
_PENDING = "select count(*) from raw.load_audit where status = 'LOADED' and transformed_at is null"


@dataclass(frozen=True)
class StepResult:
    step: str
    rows: int  # rows the step changed, as the database reports them
    seconds: float


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


def _run_step(writes: _Writes, step: str, batch_id: str, max_rows: int) -> int:
    if step not in STEPS:
        raise ValueError(f"unknown transform step {step!r}; known: {', '.join(STEPS)}")
    params = {"batch_id": batch_id, "max_rows": max_rows}
    return sum(writes.execute(stmt, params) for stmt in sql_files.statements(f"transform/{step}.sql"))


def run_step(conn: Any, step: str, batch_id: str, max_rows: int = MAX_BATCH_ROWS) -> int:
    """Run one model for the batch, its writes in a transaction that re-validates the pipeline's lease when one
    is held; return the rows it changed (as the database reports them)."""
    with ExitStack() as stack:
        return _run_step(_Writes(conn.cursor(), stack), step, batch_id, max_rows)


def run_batch(
    conn: Any,
    batch_id: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    max_rows: int = MAX_BATCH_ROWS,
) -> list[StepResult]:
    """Run every model in order on one connection, batch after batch (the first one ``batch_id``) until no
    loaded file is left untransformed, timing each step (``on_step`` hears of each as it ends); returns each
    step's rows and seconds, summed over the batches.

    A batch's write statements between its DDL run in one transaction that first re-validates the pipeline's
    lease when one is held (``exclusion.held``): the claim, then every model from quarantine to the finishing
    mark, which so commit together (and cost one validation, not one each)."""
    totals = {step: StepResult(step, 0, 0.0) for step in STEPS}
    batch_id = batch_id or new_batch_id()
    cursor = conn.cursor()
    while True:
        claimed = 0
        with ExitStack() as stack:
            writes = _Writes(cursor, stack)
            for step in STEPS:
                started = time.monotonic()
                rows = _run_step(writes, step, batch_id, max_rows)
                result = StepResult(step, rows, time.monotonic() - started)
                claimed = rows if step == STEPS[0] else claimed
                totals[step] = StepResult(step, totals[step].rows + rows, totals[step].seconds + result.seconds)
                if on_step:
                    on_step(result)
        if not claimed or not cursor.execute(_PENDING).fetchone()[0]:
            return list(totals.values())
        batch_id = new_batch_id()


def run_all(conn: Any, batch_id: str | None = None) -> dict[str, int]:
    return {result.step: result.rows for result in run_batch(conn, batch_id)}
