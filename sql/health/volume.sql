-- Volume per hour of event time: event steps in analytics.events and completed purchases in analytics.orders.
with

events_per_hour as (
    select
        date_trunc('hour', events.event_timestamp) as hour,
        count(*) as events
    from analytics.events as events
    where events.event_timestamp >= %(since)s and events.event_timestamp < %(until)s
    group by date_trunc('hour', events.event_timestamp)
),

purchases_per_hour as (
    select
        date_trunc('hour', orders.created_at) as hour,
        count(*) as purchases
    from analytics.orders as orders
    where
        orders.order_type = 'PURCHASE'
        and orders.status = 'COMPLETED'
        and orders.created_at >= %(since)s
        and orders.created_at < %(until)s
    group by date_trunc('hour', orders.created_at)
)

select
    coalesce(events_per_hour.hour, purchases_per_hour.hour) as hour,
    coalesce(events_per_hour.events, 0) as events,
    coalesce(purchases_per_hour.purchases, 0) as purchases
from events_per_hour
full outer join purchases_per_hour on events_per_hour.hour = purchases_per_hour.hour
order by hour
