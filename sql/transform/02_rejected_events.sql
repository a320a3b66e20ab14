-- Quarantine the batch's records that failed validation, once each, with the reason (insert-only: a
-- reject_id already quarantined since dedup_since, the dedup horizon, is skipped; the bound is a constant, so
-- only those micro-partitions of raw.rejected_events are read).
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, rejected_at
)
select
    stg.reject_id,
    stg.raw_text,
    stg.file_name,
    stg.reason,
    'transform' as rejected_in,
    sysdate() as rejected_at
from stg_events as stg
where
    stg.reason is not null
    and not exists (
        select 1 from raw.rejected_events as known
        where known.rejected_at >= %(dedup_since)s::timestamp_ntz and known.reject_id = stg.reject_id
    )
