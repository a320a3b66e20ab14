-- Conservation per hour of loading: each record delivered in the window is in the tables once, in
-- quarantine once, or waiting for its file's transform; anything else is lost. One pass, aggregates only.
with

delivered as (
    select
        raw_events.event_key,
        date_trunc('hour', min(raw_events.loaded_at)) as hour,
        count(*) as copies,
        max(iff(audit.transformed_at is null, 0, 1)) as transformed
    from raw.events_raw as raw_events
    inner join raw.load_audit as audit on raw_events.load_id = audit.load_id
    where raw_events.loaded_at >= %(since)s and raw_events.loaded_at < %(until)s
    group by raw_events.event_key
),

quarantined_keys as (
    select distinct rejected.reject_id
    from raw.rejected_events as rejected
    where rejected.rejected_in = 'transform'
),

outcomes as (
    select
        delivered.event_key,
        delivered.hour,
        delivered.copies,
        delivered.transformed,
        count(orders.order_id) as order_rows,
        max(iff(quarantined_keys.reject_id is null, 0, 1)) as quarantined
    from delivered
    left join analytics.orders as orders on delivered.event_key = orders.order_id
    left join quarantined_keys on delivered.event_key = quarantined_keys.reject_id
    group by delivered.event_key, delivered.hour, delivered.copies, delivered.transformed
),

per_record as (
    select
        outcomes.hour,
        1 as delivered,
        outcomes.copies - 1 as redelivered,
        iff(outcomes.order_rows > 0, 1, 0) as in_tables,
        iff(outcomes.order_rows = 0 and outcomes.quarantined = 1, 1, 0) as quarantined,
        iff(outcomes.order_rows = 0 and outcomes.quarantined = 0 and outcomes.transformed = 0, 1, 0) as waiting,
        iff(outcomes.order_rows = 0 and outcomes.quarantined = 0 and outcomes.transformed = 1, 1, 0) as lost,
        greatest(outcomes.order_rows - 1, 0) + iff(outcomes.order_rows > 0 and outcomes.quarantined = 1, 1, 0)
            as duplicated
    from outcomes

    -- Lines quarantined by the load (not JSON objects) and records Firehose could not deliver never reach
    -- raw.events_raw: they count as delivered and quarantined. So does a record reusing an EVENT_ID with
    -- other content (a conflict), quarantined under an id of its own: delivered and quarantined, not a
    -- redelivered copy of the key it reused (which counted it above).
    union all

    select
        date_trunc('hour', rejected.rejected_at) as hour,
        1 as delivered,
        iff(rejected.rejected_in = 'transform', -1, 0) as redelivered,
        0 as in_tables,
        1 as quarantined,
        0 as waiting,
        0 as lost,
        0 as duplicated
    from raw.rejected_events as rejected
    where
        rejected.rejected_at >= %(since)s
        and rejected.rejected_at < %(until)s
        and (
            rejected.rejected_in in ('load', 'firehose')
            or (
                rejected.rejected_in = 'transform'
                and not exists (
                    select 1 from raw.events_raw as raw_events
                    where raw_events.event_key = rejected.reject_id
                )
            )
        )
)

select
    per_record.hour,
    sum(per_record.delivered) as delivered,
    sum(per_record.redelivered) as redelivered,
    sum(per_record.in_tables) as in_tables,
    sum(per_record.quarantined) as quarantined,
    sum(per_record.waiting) as waiting,
    sum(per_record.lost) as lost,
    sum(per_record.duplicated) as duplicated
from per_record
group by per_record.hour
order by per_record.hour
