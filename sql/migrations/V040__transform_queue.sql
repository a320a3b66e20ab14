-- The transform queue: one row per loaded file the transforms have not finished. The load writes it in the
-- same transaction as the file's rows (sql/load/record_load.sql), sql/transform/00_claim_batch.sql claims it
-- in slices and 08_finish_batch.sql deletes it, so it holds the backlog, never history: a claim reads it
-- instead of the whole audit. Every raw row of a file has landed_at <= loaded_at (raw.events_raw) <= loaded_at
-- (this table's and the audit's): the window the transforms read raw.events_raw by (docs/bounded-work.md).
create table if not exists raw.transform_queue (
    load_id varchar,
    file_name varchar,
    rows_loaded number,
    rows_rejected number,
    landed_at timestamp_ntz,
    loaded_at timestamp_ntz,
    transform_batch_id varchar
);

-- Files a replay forgot (sql/maintenance/forget_files.sql) with the time they first loaded: the transform of
-- their reload looks for earlier copies from the dedup horizon before that time, not before the reload.
create table if not exists raw.replayed_files (
    file_name varchar,
    first_loaded_at timestamp_ntz,
    forgotten_at timestamp_ntz
);

-- The scope of the checks of runs that failed them (warehouse/checks.py), at most one row: each later run
-- checks it with its own until the checks pass, so a failure is reported again until it is repaired.
create table if not exists raw.check_backlog (
    since timestamp_ntz,
    dedup_since timestamp_ntz,
    purchases_from timestamp_ntz,
    purchases_until timestamp_ntz,
    failed_at timestamp_ntz
);

-- analytics.events carries the load time of its session's first copy (analytics.orders.loaded_at), so the
-- insert-if-missing check of sql/transform/04_events.sql reads only the rows of the dedup horizon.
alter table analytics.events add column if not exists loaded_at timestamp_ntz;

-- Rows written before: their order's (a one-time scan).
update analytics.events as events
set loaded_at = orders.loaded_at
from analytics.orders as orders
where events.order_id = orders.order_id and events.loaded_at is null;

-- Files loaded and not yet transformed before this migration join the queue (once: a file already queued is
-- skipped). Their landed_at is their first raw row's load time (a one-time scan of their rows).
insert into raw.transform_queue (load_id, file_name, rows_loaded, rows_rejected, landed_at, loaded_at)
with

pending as (
    select
        audit.load_id,
        audit.file_name,
        audit.rows_loaded,
        audit.rows_rejected,
        audit.loaded_at
    from raw.load_audit as audit
    where
        audit.status = 'LOADED'
        and audit.transformed_at is null
        and not exists (
            select 1 from raw.transform_queue as queued
            where queued.load_id = audit.load_id
        )
),

first_rows as (
    select
        raw_events.load_id,
        min(raw_events.loaded_at) as loaded_at
    from raw.events_raw as raw_events
    inner join pending on raw_events.load_id = pending.load_id
    group by raw_events.load_id
)

select
    pending.load_id,
    pending.file_name,
    coalesce(pending.rows_loaded, 0) as rows_loaded,
    coalesce(pending.rows_rejected, 0) as rows_rejected,
    least(
        coalesce(first_rows.loaded_at, pending.loaded_at), coalesce(pending.loaded_at, first_rows.loaded_at)
    ) as landed_at,
    pending.loaded_at
from pending
left join first_rows on pending.load_id = first_rows.load_id
