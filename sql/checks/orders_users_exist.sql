-- Every order's user is in analytics.users.
select count(*) as failures
from analytics.orders as orders
left join analytics.users as users on orders.user_id = users.user_id
where users.user_id is null
