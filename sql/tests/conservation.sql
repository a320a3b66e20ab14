-- Conservation: every raw record of the batch's files is in analytics.orders or in quarantine, found among
-- the rows written since the dedup horizon (where the models looked for its earlier copies). The batch's
-- bounds are literals, so only those micro-partitions are read. One row per record lost.
with

batch_records as (
    select distinct stg.event_key
    from {{ ref('stg_events') }} as stg
),

known_orders as (
    select orders.order_id
    from {{ ref('orders') }} as orders
    where orders.loaded_at >= '{{ var("dedup_since") }}'::timestamp_ntz
),

quarantined as (
    select rejected.reject_id
    from {{ ref('rejected_events') }} as rejected
    where rejected.rejected_at >= '{{ var("dedup_since") }}'::timestamp_ntz
)

select batch_records.event_key
from batch_records
left join known_orders on batch_records.event_key = known_orders.order_id
left join quarantined on batch_records.event_key = quarantined.reject_id
where known_orders.order_id is null and quarantined.reject_id is null
