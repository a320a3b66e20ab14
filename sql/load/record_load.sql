-- Record every file of a batch as loaded, in the same transaction as its rows.
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, loaded_at
)
with

loaded as (
    select
        raw_events.load_id,
        count(*) as row_count
    from raw.events_raw as raw_events
    where raw_events.load_id in (select files.load_id from landing_files as files)
    group by raw_events.load_id
),

rejected as (
    select
        rejected_events.load_id,
        count(*) as row_count
    from raw.rejected_events as rejected_events
    where rejected_events.load_id in (select files.load_id from landing_files as files)
    group by rejected_events.load_id
)

select
    files.file_name,
    files.file_etag,
    files.file_size,
    files.load_id,
    'LOADED' as status,
    coalesce(loaded.row_count, 0) as rows_loaded,
    coalesce(rejected.row_count, 0) as rows_rejected,
    sysdate() as loaded_at
from landing_files as files
left join loaded on files.load_id = loaded.load_id
left join rejected on files.load_id = rejected.load_id
