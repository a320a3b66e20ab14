-- The batch's raw records, typed, validated against the event contract and deduplicated: the one input of
-- every model after it. The contract (config/event_contract.schema.json, copied into raw.contract_fields and
-- raw.known_values by setup) quarantines only what cannot be represented faithfully or would corrupt a
-- metric; an open field's value (city, OS, payment method, device, step names) loads exactly as sent.
create or replace transient table raw.stg_events as
with

source as (
    select
        raw_events.event_key,
        raw_events.record,
        -- Rows loaded before raw.events_raw had record_hash fall back to the content hash they were keyed by.
        coalesce(raw_events.record_hash, sha2(to_json(raw_events.record), 256)) as record_hash,
        raw_events.file_name,
        raw_events.loaded_at
    from raw.events_raw as raw_events
    inner join raw.load_audit as audit on raw_events.load_id = audit.load_id
    where audit.transform_batch_id = %(batch_id)s
),

renamed as (
    select
        source.event_key,
        nullif(trim(source.record:EVENT_ID::varchar), '') as source_event_id,
        nullif(source.record:USER_ID::varchar, 'Null') as user_id,
        startswith(to_json(source.record:USER_ID), '"') as user_id_is_text,
        nullif(source.record:INITIAL_EVENT::varchar, 'Null') as initial_event,
        nullif(source.record:EVENT_2::varchar, 'Null') as event_2,
        nullif(source.record:EVENT_3::varchar, 'Null') as event_3,
        nullif(source.record:EVENT_OUT::varchar, 'Null') as event_out,
        nullif(source.record:OS_USER::varchar, 'Null') as os_user,
        nullif(source.record:CITY::varchar, 'Null') as city,
        nullif(source.record:LATITUDE::varchar, 'Null') as latitude_text,
        nullif(source.record:LONGITUDE::varchar, 'Null') as longitude_text,
        nullif(source.record:ORDER_TYPE::varchar, 'Null') as order_type,
        nullif(source.record:STATUS::varchar, 'Null') as status,
        nullif(source.record:PAYMENT_METHOD::varchar, 'Null') as payment_method,
        nullif(source.record:DEVICE_MODEL::varchar, 'Null') as device_model,
        nullif(source.record:CREATED_AT::varchar, 'Null') as created_at_text,
        nullif(source.record:HOURLY_PURCHASE_COUNT::varchar, 'Null') as hourly_count_text,
        nullif(source.record:DAILY_PURCHASE_COUNT::varchar, 'Null') as daily_count_text,
        -- The first text field holding a JSON number, boolean, array or object instead of a string (TO_JSON's
        -- text starts with a quote for a string, with n for a JSON null). Such a value's text starts with one
        -- of - 0 1 2 3 4 5 6 7 8 9 t f [ {, so only then is its JSON looked at.
        case
            when
                contains('-0123456789tf[{', left(source.record:INITIAL_EVENT::varchar, 1))
                and left(to_json(source.record:INITIAL_EVENT), 1) not in ('"', 'n') then 'INITIAL_EVENT'
            when
                contains('-0123456789tf[{', left(source.record:EVENT_2::varchar, 1))
                and left(to_json(source.record:EVENT_2), 1) not in ('"', 'n') then 'EVENT_2'
            when
                contains('-0123456789tf[{', left(source.record:EVENT_3::varchar, 1))
                and left(to_json(source.record:EVENT_3), 1) not in ('"', 'n') then 'EVENT_3'
            when
                contains('-0123456789tf[{', left(source.record:EVENT_OUT::varchar, 1))
                and left(to_json(source.record:EVENT_OUT), 1) not in ('"', 'n') then 'EVENT_OUT'
            when
                contains('-0123456789tf[{', left(source.record:OS_USER::varchar, 1))
                and left(to_json(source.record:OS_USER), 1) not in ('"', 'n') then 'OS_USER'
            when
                contains('-0123456789tf[{', left(source.record:CITY::varchar, 1))
                and left(to_json(source.record:CITY), 1) not in ('"', 'n') then 'CITY'
            when
                contains('-0123456789tf[{', left(source.record:ORDER_TYPE::varchar, 1))
                and left(to_json(source.record:ORDER_TYPE), 1) not in ('"', 'n') then 'ORDER_TYPE'
            when
                contains('-0123456789tf[{', left(source.record:STATUS::varchar, 1))
                and left(to_json(source.record:STATUS), 1) not in ('"', 'n') then 'STATUS'
            when
                contains('-0123456789tf[{', left(source.record:PAYMENT_METHOD::varchar, 1))
                and left(to_json(source.record:PAYMENT_METHOD), 1) not in ('"', 'n') then 'PAYMENT_METHOD'
            when
                contains('-0123456789tf[{', left(source.record:DEVICE_MODEL::varchar, 1))
                and left(to_json(source.record:DEVICE_MODEL), 1) not in ('"', 'n') then 'DEVICE_MODEL'
        end as non_text_field,
        source.record,
        source.record_hash,
        source.file_name,
        source.loaded_at
    from source
),

-- CREATED_AT's parts when it has an accepted shape: 'YYYY-MM-DD HH:MM:SS' (the seed's) or ISO-8601 with a T,
-- fractional seconds and a zone (Z, +hh:mm, -hh:mm); no zone means UTC.
created_at_parts as (
    select
        renamed.*,
        iff(
            regexp_like(
                renamed.created_at_text,
                '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?$'
            ),
            substr(renamed.created_at_text, 1, 10) || ' ' || substr(renamed.created_at_text, 12, 8),
            null
        ) as created_at_seconds,
        nullif(regexp_substr(substr(renamed.created_at_text, 20), '^[.][0-9]+'), '') as created_at_fraction,
        coalesce(
            nullif(regexp_substr(renamed.created_at_text, '[+-][0-9]{2}:[0-9]{2}$'), ''), '+00:00'
        ) as created_at_zone
    from renamed
),

typed as (
    select
        created_at_parts.* exclude (created_at_seconds, created_at_fraction, created_at_zone),
        try_to_double(created_at_parts.latitude_text) as latitude,
        try_to_double(created_at_parts.longitude_text) as longitude,
        try_to_number(created_at_parts.hourly_count_text) as producer_hourly_purchase_count,
        try_to_number(created_at_parts.daily_count_text) as producer_daily_purchase_count,
        -- In UTC, parsed with one explicit format per shape (with or without fractional seconds).
        convert_timezone(
            'UTC',
            iff(
                created_at_parts.created_at_fraction is null,
                try_to_timestamp_tz(
                    created_at_parts.created_at_seconds || ' ' || created_at_parts.created_at_zone,
                    'YYYY-MM-DD HH24:MI:SS TZH:TZM'
                ),
                try_to_timestamp_tz(
                    created_at_parts.created_at_seconds || created_at_parts.created_at_fraction
                    || ' ' || created_at_parts.created_at_zone,
                    'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM'
                )
            )
        )::timestamp_ntz as created_at
    from created_at_parts
),

-- One row per record and closed field of the contract (raw.contract_fields), with the record's value.
closed_values as (
    select
        typed.event_key,
        typed.record_hash,
        contract_fields.field,
        case contract_fields.field
            when 'INITIAL_EVENT' then typed.initial_event
            when 'EVENT_2' then typed.event_2
            when 'EVENT_3' then typed.event_3
            when 'EVENT_OUT' then typed.event_out
            when 'OS_USER' then typed.os_user
            when 'CITY' then typed.city
            when 'ORDER_TYPE' then typed.order_type
            when 'STATUS' then typed.status
            when 'PAYMENT_METHOD' then typed.payment_method
            when 'DEVICE_MODEL' then typed.device_model
        end as value
    from typed
    cross join raw.contract_fields as contract_fields
    where contract_fields.is_closed
),

-- Per record, the first value of a closed field that the contract does not know.
unknown_closed as (
    select
        closed_values.event_key,
        closed_values.record_hash,
        'unknown ' || closed_values.field || ': ' || closed_values.value as problem
    from closed_values
    left join raw.known_values as known
        on closed_values.field = known.field and closed_values.value = known.value
    where closed_values.value is not null and known.value is null
    qualify row_number() over (
        partition by closed_values.event_key, closed_values.record_hash
        order by closed_values.field
    ) = 1
),

validated as (
    select
        typed.*,
        case
            when typed.user_id is null then 'missing USER_ID'
            when not typed.user_id_is_text then 'malformed USER_ID: must be a JSON string'
            when not regexp_like(typed.user_id, '^[0-9a-f]{10}$')
                then 'malformed USER_ID: expected 10 lowercase hex characters'
            when typed.created_at_text is null then 'missing CREATED_AT'
            when typed.created_at is null
                then 'unparseable CREATED_AT: expected YYYY-MM-DD HH:MM:SS or ISO-8601'
            when typed.created_at > dateadd('day', 1, sysdate())
                then 'CREATED_AT more than a day in the future'
            when typed.latitude is null or typed.longitude is null
                then 'missing or non-numeric LATITUDE/LONGITUDE'
            when typed.latitude not between -90 and 90 or typed.longitude not between -180 and 180
                then 'coordinates out of range'
            when typed.order_type is null then 'missing ORDER_TYPE'
            when typed.status is null then 'missing STATUS'
            when typed.non_text_field is not null
                then 'malformed ' || typed.non_text_field || ': must be a JSON string'
            when unknown_closed.problem is not null then unknown_closed.problem
            when typed.producer_hourly_purchase_count < 0 or typed.producer_daily_purchase_count < 0
                then 'negative purchase count'
            when not regexp_like(typed.hourly_count_text, '^[0-9]+$')
                then 'malformed HOURLY_PURCHASE_COUNT: expected a whole number'
            when not regexp_like(typed.daily_count_text, '^[0-9]+$')
                then 'malformed DAILY_PURCHASE_COUNT: expected a whole number'
        end as reason
    from typed
    left join unknown_closed
        on typed.event_key = unknown_closed.event_key and typed.record_hash = unknown_closed.record_hash
),

ranked as (
    select
        validated.*,
        row_number() over (
            partition by validated.event_key
            order by validated.loaded_at, validated.file_name, validated.record_hash
        ) as copy_number,
        first_value(validated.record_hash) over (
            partition by validated.event_key
            order by validated.loaded_at, validated.file_name, validated.record_hash
        ) as first_hash
    from validated
),

-- A redelivered record (same key, same line) is kept once. A record reusing a key with other content
-- (here, or already in analytics.orders) is a conflict: quarantined, never merged.
flagged as (
    select
        ranked.*,
        (
            ranked.record_hash != ranked.first_hash
            -- Orders merged before record_hash was the delivered line's hash hold the content hash instead.
            or (
                known.record_hash is not null
                and known.record_hash not in (ranked.record_hash, sha2(to_json(ranked.record), 256))
            )
        ) as is_conflict
    from ranked
    left join analytics.orders as known on ranked.event_key = known.order_id
),

deduped as (
    select
        flagged.* exclude (record, reason, copy_number, first_hash, is_conflict, non_text_field),
        coalesce(
            flagged.reason,
            iff(flagged.is_conflict, 'conflicting duplicate: EVENT_ID already seen with other content', null)
        ) as reason,
        -- The record as text, for quarantine only (what goes to analytics is typed above).
        iff(flagged.reason is not null or flagged.is_conflict, to_json(flagged.record), null) as raw_text,
        iff(flagged.is_conflict, sha2(flagged.event_key || ':' || flagged.record_hash, 256), flagged.event_key)
            as reject_id
    from flagged
    qualify row_number() over (
        partition by flagged.event_key, flagged.record_hash
        order by flagged.copy_number
    ) = 1
)

select * from deduped
