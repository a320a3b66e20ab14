-- Full rebuild: empty the analytics tables and queue every loaded file again, so the next transform run
-- recomputes everything from RAW. The naive baseline the incremental runs beat, and the way to apply a changed
-- model to history. It reads all of RAW, as the transform after it will.
truncate table analytics.orders;
truncate table analytics.events;
truncate table analytics.users;
truncate table analytics.purchase_counts;
delete from raw.rejected_events
where rejected_in = 'transform';
update raw.load_audit set transform_batch_id = null, transformed_at = null
where status = 'LOADED';

-- Every loaded file is queued once, landed_at being its first raw row's load time (see V040).
delete from raw.transform_queue;

insert into raw.transform_queue (load_id, file_name, rows_loaded, rows_rejected, landed_at, loaded_at)
with

first_rows as (
    select
        raw_events.load_id,
        min(raw_events.loaded_at) as loaded_at
    from raw.events_raw as raw_events
    group by raw_events.load_id
)

select
    audit.load_id,
    audit.file_name,
    coalesce(audit.rows_loaded, 0) as rows_loaded,
    coalesce(audit.rows_rejected, 0) as rows_rejected,
    least(
        coalesce(first_rows.loaded_at, audit.loaded_at), coalesce(audit.loaded_at, first_rows.loaded_at)
    ) as landed_at,
    audit.loaded_at
from raw.load_audit as audit
left join first_rows on audit.load_id = first_rows.load_id
where audit.status = 'LOADED';
