-- Derived purchase counts add up to the completed purchases in analytics.orders.
select abs(
    (
        select count(*) from analytics.orders as orders
        where orders.order_type = 'PURCHASE' and orders.status = 'COMPLETED'
    )
    - (select coalesce(sum(counts.hourly_purchase_count), 0) from analytics.purchase_counts as counts)
) as failures
