-- The event days of the batch's completed purchases, which the purchase_counts model (sql/models/marts) recounts from
-- analytics.orders: purchases_from (the first day) to purchases_until (the day after the last), constants for
-- the statements after staging. No purchase: no days (NULLs).
select
    count(*) as purchases,
    date_trunc('day', min(stg.created_at)) as purchases_from,
    dateadd('day', 1, date_trunc('day', max(stg.created_at))) as purchases_until
from raw.events_validated as stg
where stg.reason is null and stg.order_type = 'PURCHASE' and stg.status = 'COMPLETED'
