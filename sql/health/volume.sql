-- Volume per hour of loading: event steps (analytics.events, through their order's load time) and completed
-- purchases (analytics.orders) that reached the warehouse in each hour, whatever their event time.
with

events_per_hour as (
    select
        date_trunc('hour', orders.loaded_at) as hour,
        count(*) as events
    from analytics.events as events
    inner join analytics.orders as orders on events.order_id = orders.order_id
    where orders.loaded_at >= %(since)s and orders.loaded_at < %(until)s
    group by date_trunc('hour', orders.loaded_at)
),

purchases_per_hour as (
    select
        date_trunc('hour', orders.loaded_at) as hour,
        count(*) as purchases
    from analytics.orders as orders
    where
        orders.order_type = 'PURCHASE'
        and orders.status = 'COMPLETED'
        and orders.loaded_at >= %(since)s
        and orders.loaded_at < %(until)s
    group by date_trunc('hour', orders.loaded_at)
)

select
    coalesce(events_per_hour.hour, purchases_per_hour.hour) as hour,
    coalesce(events_per_hour.events, 0) as events,
    coalesce(purchases_per_hour.purchases, 0) as purchases
from events_per_hour
full outer join purchases_per_hour on events_per_hour.hour = purchases_per_hour.hour
order by hour
