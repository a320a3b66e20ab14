-- Conservation: every raw record of the transformed files loaded since %(since)s (the run's scope, from
-- warehouse/transform.py) is in analytics.orders or in quarantine, found among the rows written since
-- %(dedup_since)s (the dedup horizon: where the transforms looked for its earlier copies). The bounds are
-- constants, so only those micro-partitions are read.
with

transformed_files as (
    select audit.load_id
    from raw.load_audit as audit
    where audit.loaded_at >= %(since)s::timestamp_ntz and audit.transformed_at is not null
),

transformed as (
    select distinct raw_events.event_key
    from raw.events_raw as raw_events
    inner join transformed_files on raw_events.load_id = transformed_files.load_id
    where raw_events.loaded_at >= %(since)s::timestamp_ntz
),

known_orders as (
    select orders.order_id
    from analytics.orders as orders
    where orders.loaded_at >= %(dedup_since)s::timestamp_ntz
),

quarantined as (
    select rejected.reject_id
    from raw.rejected_events as rejected
    where rejected.rejected_at >= %(dedup_since)s::timestamp_ntz
)

select count(*) as failures
from transformed
left join known_orders on transformed.event_key = known_orders.order_id
left join quarantined on transformed.event_key = quarantined.reject_id
where known_orders.order_id is null and quarantined.reject_id is null
