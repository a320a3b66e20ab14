-- Quarantine the batch's records that failed validation, once each, with the reason.
merge into raw.rejected_events as target
using (
    select
        stg.reject_id,
        stg.raw_text,
        stg.file_name,
        stg.reason
    from raw.stg_events as stg
    where stg.reason is not null
) as source
    on target.reject_id = source.reject_id
when not matched then insert (
    reject_id, raw_text, file_name, reason, rejected_in, rejected_at
) values (
    source.reject_id,
    source.raw_text,
    source.file_name,
    source.reason,
    'transform',
    sysdate()
)
