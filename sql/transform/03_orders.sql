-- One row per session (one raw record), keyed by the record's event key: a redelivered record is a no-op.
merge into analytics.orders as target
using (
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
    from raw.stg_events as stg
    where stg.reason is null
) as source
    on target.order_id = source.order_id
when not matched then insert (
    order_id, source_event_id, user_id, order_type, status, payment_method, category, created_at,
    producer_hourly_purchase_count, producer_daily_purchase_count, record_hash, file_name, loaded_at
) values (
    source.order_id, source.source_event_id, source.user_id, source.order_type, source.status,
    source.payment_method, source.category, source.created_at, source.producer_hourly_purchase_count,
    source.producer_daily_purchase_count, source.record_hash, source.file_name, source.loaded_at
)
