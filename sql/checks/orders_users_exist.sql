-- Every order written by the run (loaded since %(since)s) has its user in analytics.users.
select count(*) as failures
from analytics.orders as orders
left join analytics.users as users on orders.user_id = users.user_id
where orders.loaded_at >= %(since)s::timestamp_ntz and users.user_id is null
