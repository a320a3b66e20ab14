-- Orders written by the run (loaded since %(since)s) carry the columns every consumer relies on.
select count(*) as failures
from analytics.orders as orders
where
    orders.loaded_at >= %(since)s::timestamp_ntz
    and (
        orders.order_id is null
        or orders.user_id is null
        or orders.order_type is null
        or orders.status is null
        or orders.created_at is null
    )
