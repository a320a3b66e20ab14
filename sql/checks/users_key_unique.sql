-- analytics.users has one row per user_id.
select count(*) - count(distinct users.user_id) as failures
from analytics.users as users
