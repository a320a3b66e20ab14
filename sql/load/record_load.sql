-- Record every file of a batch as loaded, in the same transaction as its rows: queue it for the transforms
-- (raw.transform_queue), then write its audit row with the same counts and load time.
-- The counts come from this run's own rows, not from a scan of the raw tables: rows_loaded from landing_parsed
-- (the file's lines without a reason, each of which sql/load/events_raw.sql inserted); rows_rejected is what
-- the batch's split added to raw.rejected_events for the file (a line quarantined before is not added again,
-- and Firehose's error output is split straight from landing_lines, so only those rows know). They were written
-- moments ago in this transaction by one statement, which runs for at most STATEMENT_TIMEOUT_IN_SECONDS (1 h on
-- the pipeline's connections): a look-back of a day from now finds them all, and the bound is a constant, so
-- Snowflake prunes every older micro-partition when it compiles the statement.
-- landed_at (landing_files) was set before any of the batch's rows were written: no raw row of the file is
-- older, which is what lets the transforms read raw.events_raw by load time.
insert into raw.transform_queue (load_id, file_name, rows_loaded, rows_rejected, landed_at, loaded_at)
with

loaded as (
    select
        parsed.load_id,
        count(*) as row_count
    from landing_parsed as parsed
    where parsed.reason is null
    group by parsed.load_id
),

rejected as (
    select
        rejected_events.load_id,
        count(*) as row_count
    from raw.rejected_events as rejected_events
    where
        rejected_events.rejected_at >= dateadd('day', -1, sysdate())
        and rejected_events.load_id in (select files.load_id from landing_files as files)
    group by rejected_events.load_id
)

select
    files.load_id,
    files.file_name,
    coalesce(loaded.row_count, 0) as rows_loaded,
    coalesce(rejected.row_count, 0) as rows_rejected,
    files.landed_at,
    sysdate() as loaded_at
from landing_files as files
left join loaded on files.load_id = loaded.load_id
left join rejected on files.load_id = rejected.load_id;

-- The audit row: the queue row's counts and load time (the queue holds only the backlog).
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, loaded_at
)
select
    files.file_name,
    files.file_etag,
    files.file_size,
    files.load_id,
    'LOADED' as status,
    queue.rows_loaded,
    queue.rows_rejected,
    queue.loaded_at
from landing_files as files
inner join raw.transform_queue as queue on files.load_id = queue.load_id
