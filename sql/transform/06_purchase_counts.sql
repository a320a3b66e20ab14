-- Completed purchases per user per hour, with that day's total. Every (user, day) the batch touches is
-- recounted from analytics.orders, so a purchase arriving days late corrects its day's figures. Exact, and
-- bounded by the batch's purchase days (purchases_from to purchases_until, constants from
-- sql/transform/bounds/staged.sql): orders are read by event time within those days, so Snowflake reads the
-- micro-partitions whose events fall in them (rows load roughly in event-time order), and the target rows
-- matched are those of the same days.
merge into analytics.purchase_counts as target
using (
    with

    purchases as (
        select
            orders.user_id,
            date_trunc('hour', orders.created_at) as hour,
            to_date(orders.created_at) as daily
        from analytics.orders as orders
        where
            orders.created_at >= %(purchases_from)s::timestamp_ntz
            and orders.created_at < %(purchases_until)s::timestamp_ntz
            and orders.order_type = 'PURCHASE'
            and orders.status = 'COMPLETED'
    ),

    touched as (
        select distinct
            stg.user_id,
            to_date(stg.created_at) as daily
        from stg_events as stg
        where stg.reason is null and stg.order_type = 'PURCHASE' and stg.status = 'COMPLETED'
    ),

    hourly as (
        select
            purchases.user_id,
            purchases.hour,
            purchases.daily,
            count(*) as hourly_purchase_count
        from purchases
        inner join touched
            on purchases.user_id = touched.user_id and purchases.daily = touched.daily
        group by purchases.user_id, purchases.hour, purchases.daily
    )

    select
        hourly.user_id,
        hourly.hour,
        hourly.daily,
        hourly.hourly_purchase_count,
        sum(hourly.hourly_purchase_count) over (partition by hourly.user_id, hourly.daily) as daily_purchase_count
    from hourly
) as source
    on
        target.hour >= %(purchases_from)s::timestamp_ntz
        and target.hour < %(purchases_until)s::timestamp_ntz
        and target.user_id = source.user_id
        and target.hour = source.hour
when matched then
    update set
        hourly_purchase_count = source.hourly_purchase_count,
        daily_purchase_count = source.daily_purchase_count
when not matched then insert (
    user_id, hour, daily, hourly_purchase_count, daily_purchase_count
) values (
    source.user_id, source.hour, source.daily, source.hourly_purchase_count, source.daily_purchase_count
)
