{{ config(schema='analytics', incremental_strategy='append') }}
-- One row per session (one raw record), keyed by the record's event key: a redelivered record adds nothing.
-- Insert-only (a key never changes content: other content under a known key is quarantined by
-- int_events_validated), so an anti-join on the orders loaded since the dedup horizon
-- (macros/not_written_since_horizon.sql), not a MERGE.
select
    stg.event_key as order_id,
    stg.source_event_id,
    stg.user_id,
    stg.order_type,
    stg.status,
    stg.payment_method,
    iff(stg.order_type = 'PURCHASE', stg.event_out, null) as category,
    stg.created_at,
    stg.producer_hourly_purchase_count,
    stg.producer_daily_purchase_count,
    stg.record_hash,
    stg.file_name,
    stg.loaded_at
from {{ ref('int_events_validated') }} as stg
where
    stg.reason is null
    and {{ not_written_since_horizon('order_id', 'stg.event_key') }}
