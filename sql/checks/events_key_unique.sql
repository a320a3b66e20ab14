-- analytics.events has one row per event_id: each step written by the run (loaded since %(since)s) is there
-- once among the steps written since %(dedup_since)s (the dedup horizon: the rows its insert looked at).
with

written as (
    select distinct events.event_id
    from analytics.events as events
    where events.loaded_at >= %(since)s::timestamp_ntz
),

horizon as (
    select events.event_id
    from analytics.events as events
    where events.loaded_at >= %(dedup_since)s::timestamp_ntz
)

select count(*) - count(distinct horizon.event_id) as failures
from horizon
inner join written on horizon.event_id = written.event_id
