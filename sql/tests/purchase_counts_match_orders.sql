{%- set days = purchase_days(ref('int_events_validated')) %}
-- Derived purchase counts add up to the completed purchases in analytics.orders over the event days of the
-- batch's purchases (literals): every purchase of those days, whenever it loaded, since purchase_counts
-- recounts whole days. One row when they differ.
with

ordered as (
    select count(*) as purchases
    from {{ ref('orders') }} as orders
    where
        orders.created_at >= '{{ days.from }}'::timestamp_ntz
        and orders.created_at < '{{ days.until }}'::timestamp_ntz
        and orders.order_type = 'PURCHASE'
        and orders.status = 'COMPLETED'
),

counted as (
    select coalesce(sum(counts.hourly_purchase_count), 0) as purchases
    from {{ ref('purchase_counts') }} as counts
    where
        counts.hour >= '{{ days.from }}'::timestamp_ntz
        and counts.hour < '{{ days.until }}'::timestamp_ntz
)

select
    ordered.purchases as in_orders,
    counted.purchases as in_purchase_counts
from ordered
cross join counted
where ordered.purchases != counted.purchases
