-- analytics.orders has one row per order_id: each order written by the run (loaded since %(since)s) is there
-- once among the orders written since %(dedup_since)s (the dedup horizon: the rows its insert looked at).
with

written as (
    select distinct orders.order_id
    from analytics.orders as orders
    where orders.loaded_at >= %(since)s::timestamp_ntz
),

horizon as (
    select orders.order_id
    from analytics.orders as orders
    where orders.loaded_at >= %(dedup_since)s::timestamp_ntz
)

select count(*) - count(distinct horizon.order_id) as failures
from horizon
inner join written on horizon.order_id = written.order_id
