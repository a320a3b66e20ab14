-- Value drift: each loaded record's values of open fields that the contract does not know yet (a new city, OS
-- version, payment method, device or step name), one row per record and field. Those records loaded as sent;
-- this only counts them (analytics.value_drift). Keyed on field and record, so running it again adds nothing
-- (looked up among the observations loaded since dedup_since, the dedup horizon, as 03_orders).
insert into raw.drift_observations (field, value, event_key, created_at, loaded_at)
with

open_values as (
    select
        valid.event_key,
        valid.created_at,
        valid.loaded_at,
        contract_fields.field,
        case contract_fields.field
            when 'INITIAL_EVENT' then valid.initial_event
            when 'EVENT_2' then valid.event_2
            when 'EVENT_3' then valid.event_3
            when 'EVENT_OUT' then valid.event_out
            when 'OS_USER' then valid.os_user
            when 'CITY' then valid.city
            when 'ORDER_TYPE' then valid.order_type
            when 'STATUS' then valid.status
            when 'PAYMENT_METHOD' then valid.payment_method
            when 'DEVICE_MODEL' then valid.device_model
        end as value
    from stg_events as valid
    cross join raw.contract_fields as contract_fields
    where valid.reason is null and not contract_fields.is_closed
)

select
    open_values.field,
    open_values.value,
    open_values.event_key,
    open_values.created_at,
    open_values.loaded_at
from open_values
left join raw.known_values as known
    on open_values.field = known.field and open_values.value = known.value
where
    open_values.value is not null
    and known.value is null
    and not exists (
        select 1 from raw.drift_observations as observed
        where
            observed.loaded_at >= %(dedup_since)s::timestamp_ntz
            and observed.field = open_values.field
            and observed.event_key = open_values.event_key
    )
