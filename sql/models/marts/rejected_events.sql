{{ config(schema='raw', incremental_strategy='append', on_schema_change='ignore') }}
-- Quarantine: the batch's records that failed validation, once each, with the reason. Insert-only: a
-- reject_id already quarantined since the dedup horizon (a literal) is skipped. The load quarantines its own
-- rejects here too (rejected_in 'load' or 'firehose').
select
    stg.reject_id,
    stg.raw_text,
    stg.file_name,
    stg.reason,
    'transform' as rejected_in,
    null as load_id,
    sysdate() as rejected_at
from {{ ref('int_events_validated') }} as stg
where
    stg.reason is not null
    {% if is_incremental() %}
    and not exists (
        select 1 from {{ this }} as known
        where known.rejected_at >= '{{ var("dedup_since") }}'::timestamp_ntz and known.reject_id = stg.reject_id
    )
    {% endif %}
