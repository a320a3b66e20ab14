-- analytics.orders has one row per order_id.
select count(*) - count(distinct orders.order_id) as failures
from analytics.orders as orders
