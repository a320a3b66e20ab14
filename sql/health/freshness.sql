-- Freshness: the newest load, transform and event time, and per hour of loading the latency from the
-- event's own time (CREATED_AT) to its load into the warehouse (p50, p95).
with

newest as (
    select
        (select max(raw_events.loaded_at) from raw.events_raw as raw_events) as newest_loaded_at,
        (select max(audit.transformed_at) from raw.load_audit as audit) as newest_transformed_at,
        (select max(orders.created_at) from analytics.orders as orders) as newest_event_at
),

latency as (
    select
        date_trunc('hour', orders.loaded_at) as hour,
        datediff('second', orders.created_at, orders.loaded_at) as seconds
    from analytics.orders as orders
    where orders.loaded_at >= %(since)s and orders.loaded_at < %(until)s
),

per_hour as (
    select
        latency.hour,
        count(*) as orders,
        percentile_cont(0.5) within group (order by latency.seconds) as p50_seconds,
        percentile_cont(0.95) within group (order by latency.seconds) as p95_seconds
    from latency
    group by latency.hour
)

select
    newest.newest_loaded_at,
    newest.newest_transformed_at,
    newest.newest_event_at,
    per_hour.hour,
    per_hour.orders,
    per_hour.p50_seconds,
    per_hour.p95_seconds
from newest
left join per_hour on 1 = 1
order by per_hour.hour
