-- analytics.events has one row per event_id.
select count(*) - count(distinct events.event_id) as failures
from analytics.events as events
