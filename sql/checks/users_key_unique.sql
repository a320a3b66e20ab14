-- analytics.users has one row per user_id: each user of the orders written by the run (loaded since
-- %(since)s). analytics.users holds one row per user, so this reads the user base, not history.
with

written_users as (
    select distinct orders.user_id
    from analytics.orders as orders
    where orders.loaded_at >= %(since)s::timestamp_ntz
)

select count(*) - count(distinct users.user_id) as failures
from analytics.users as users
inner join written_users on users.user_id = written_users.user_id
