-- Order types and statuses, the fields that decide what a purchase is, stay inside the contract's closed
-- sets (raw.contract_fields, raw.known_values from config/event_contract.schema.json): the orders written by
-- the run (loaded since %(since)s).
with

closed_values as (
    select
        contract_fields.field,
        known.value
    from raw.contract_fields as contract_fields
    inner join raw.known_values as known on contract_fields.field = known.field
    where contract_fields.is_closed
)

select count(*) as failures
from analytics.orders as orders
left join closed_values as order_types
    on order_types.field = 'ORDER_TYPE' and orders.order_type = order_types.value
left join closed_values as statuses
    on statuses.field = 'STATUS' and orders.status = statuses.value
where orders.loaded_at >= %(since)s::timestamp_ntz and (order_types.value is null or statuses.value is null)
