{{ config(
    schema='analytics',
    incremental_strategy='merge_purchase_days',
    purchase_day_column='hour',
    unique_key=['user_id', 'hour'],
) }}
{%- set days = purchase_days(ref('int_events_validated')) %}
-- Completed purchases per user per hour, with that day's total. Every (user, day) the batch touches is
-- recounted from analytics.orders, so a purchase arriving days late corrects its day's figures. Exact, and
-- bounded by the batch's purchase days (literals read from the batch's validated events when this model
-- runs): orders are read by event time within those days, so Snowflake reads the micro-partitions whose
-- events fall in them (rows load roughly in event-time order); the MERGE matches only the target's rows of
-- those days (the merge_purchase_days strategy, sql/macros/purchase_days.sql).
with

purchases as (
    select
        orders.user_id,
        date_trunc('hour', orders.created_at) as hour,
        to_date(orders.created_at) as daily
    from {{ ref('orders') }} as orders
    where
        orders.created_at >= '{{ days.from }}'::timestamp_ntz
        and orders.created_at < '{{ days.until }}'::timestamp_ntz
        and orders.order_type = 'PURCHASE'
        and orders.status = 'COMPLETED'
),

touched as (
    select distinct
        stg.user_id,
        to_date(stg.created_at) as daily
    from {{ ref('int_events_validated') }} as stg
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
    sum(hourly.hourly_purchase_count) over (partition by hourly.user_id, hourly.daily)::number(38, 0)
        as daily_purchase_count
from hourly
