-- Order types and statuses stay inside the accepted sets.
select count(*) as failures
from analytics.orders as orders
where
    orders.order_type not in ('PURCHASE', 'USER_VISIT')
    or orders.status not in (
        'COMPLETED', 'UNCONVERTED', 'FAILED_CHECKOUT', 'FAILED_API_RESPONSE', 'INSUFFICIENT_FUNDS',
        'USER_ERROR', 'FRAUD', 'PENDING', 'CANCELLED'
    )
