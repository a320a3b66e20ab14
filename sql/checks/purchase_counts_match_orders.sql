-- Derived purchase counts add up to the completed purchases in analytics.orders, over the event days of the
-- run's purchases (%(purchases_from)s to %(purchases_until)s, constants): every purchase of those days,
-- whenever it loaded, since 06_purchase_counts recounts whole days.
select abs(
    (
        select count(*) from analytics.orders as orders
        where
            orders.created_at >= %(purchases_from)s::timestamp_ntz
            and orders.created_at < %(purchases_until)s::timestamp_ntz
            and orders.order_type = 'PURCHASE'
            and orders.status = 'COMPLETED'
    )
    - (
        select coalesce(sum(counts.hourly_purchase_count), 0) from analytics.purchase_counts as counts
        where
            counts.hour >= %(purchases_from)s::timestamp_ntz
            and counts.hour < %(purchases_until)s::timestamp_ntz
    )
) as failures
