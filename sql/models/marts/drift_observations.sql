{{ config(schema='raw', incremental_strategy='append', on_schema_change='ignore') }}
-- Value drift: each loaded record's values of open fields that the contract does not know yet (a new city, OS
-- version, payment method, device or step name), one row per record and field (analytics.value_drift counts
-- them). Those records loaded as sent; this only observes them. Keyed on field and record, so running it
-- again adds nothing (looked up among the observations loaded since the dedup horizon).
with

open_values as (
    {% for field in event_contract()['open'] %}
    {% if not loop.first %}union all{% endif %}
    select
        valid.event_key,
        valid.created_at,
        valid.loaded_at,
        '{{ field }}' as field,
        valid.{{ field | lower }} as value
    from {{ ref('int_events_validated') }} as valid
    where valid.reason is null and valid.{{ field | lower }} is not null
    {% endfor %}
)

select
    open_values.field,
    open_values.value,
    open_values.event_key,
    open_values.created_at,
    open_values.loaded_at
from open_values
left join {{ source('raw', 'known_values') }} as known
    on open_values.field = known.field and open_values.value = known.value
where
    {% if is_incremental() %}
    not exists (
        select 1 from {{ this }} as observed
        where
            observed.loaded_at >= '{{ var("dedup_since") }}'::timestamp_ntz
            and observed.field = open_values.field
            and observed.event_key = open_values.event_key
    )
    and
    {% endif %}
    known.value is null
