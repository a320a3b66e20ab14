-- Conservation: every transformed raw record is in analytics.orders or in quarantine.
with

transformed as (
    select distinct raw_events.event_key
    from raw.events_raw as raw_events
    inner join raw.load_audit as audit on raw_events.load_id = audit.load_id
    where audit.transformed_at is not null
)

select count(*) as failures
from transformed
left join analytics.orders as orders on transformed.event_key = orders.order_id
left join raw.rejected_events as rejected on transformed.event_key = rejected.reject_id
where orders.order_id is null and rejected.reject_id is null
