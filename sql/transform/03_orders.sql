-- One row per session (one raw record), keyed by the record's event key: a redelivered record adds nothing.
-- Insert-only (a key never changes content: other content under a known key is quarantined by
-- 01_stg_events), so an anti-join, not a MERGE: the same rows, without a join that reads every column. The
-- anti-join reads the orders loaded since dedup_since (the dedup horizon, docs/bounded-work.md), a constant, so
-- only those micro-partitions; a copy loaded more than the horizon after the first is not recognised.
insert into analytics.orders (
    order_id, source_event_id, user_id, order_type, status, payment_method, category, created_at,
    producer_hourly_purchase_count, producer_daily_purchase_count, record_hash, file_name, loaded_at
)
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
from stg_events as stg
where
    stg.reason is null
    and not exists (
        select 1 from analytics.orders as known
        where known.loaded_at >= %(dedup_since)s::timestamp_ntz and known.order_id = stg.event_key
    )
