-- The batch's raw records, typed, validated and deduplicated: the one input of every model after it.
create or replace transient table raw.stg_events as
with

source as (
    select
        raw_events.event_key,
        raw_events.record,
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
        to_json(source.record) as raw_text,
        sha2(to_json(source.record), 256) as record_hash,
        source.file_name,
        source.loaded_at
    from source
),

typed as (
    select
        renamed.*,
        try_to_double(renamed.latitude_text) as latitude,
        try_to_double(renamed.longitude_text) as longitude,
        try_to_number(renamed.hourly_count_text) as producer_hourly_purchase_count,
        try_to_number(renamed.daily_count_text) as producer_daily_purchase_count,
        -- The seed writes 'YYYY-MM-DD HH:MM:SS'; its README's sample uses ISO-8601 with a T.
        coalesce(
            try_to_timestamp_ntz(renamed.created_at_text, 'YYYY-MM-DD HH24:MI:SS'),
            try_to_timestamp_ntz(replace(renamed.created_at_text, 'T', ' '), 'YYYY-MM-DD HH24:MI:SS')
        ) as created_at
    from renamed
),

accepted as (
    select
        accepted_values.field,
        accepted_values.value
    from raw.accepted_values as accepted_values
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
            when ok_order_type.value is null then 'unknown ORDER_TYPE: ' || typed.order_type
            when ok_status.value is null then 'unknown STATUS: ' || typed.status
            when typed.initial_event is not null and ok_initial.value is null
                then 'unknown INITIAL_EVENT: ' || typed.initial_event
            when typed.event_2 is not null and ok_event_2.value is null then 'unknown EVENT_2: ' || typed.event_2
            when typed.event_3 is not null and ok_event_3.value is null then 'unknown EVENT_3: ' || typed.event_3
            when typed.event_out is not null and ok_event_out.value is null
                then 'unknown EVENT_OUT: ' || typed.event_out
            when typed.os_user is not null and ok_os.value is null then 'unknown OS_USER: ' || typed.os_user
            when typed.city is not null and ok_city.value is null then 'unknown CITY: ' || typed.city
            when typed.payment_method is not null and ok_payment.value is null
                then 'unknown PAYMENT_METHOD: ' || typed.payment_method
            when typed.producer_hourly_purchase_count < 0 or typed.producer_daily_purchase_count < 0
                then 'negative purchase count'
        end as reason
    from typed
    left join accepted as ok_order_type
        on ok_order_type.field = 'ORDER_TYPE' and typed.order_type = ok_order_type.value
    left join accepted as ok_status
        on ok_status.field = 'STATUS' and typed.status = ok_status.value
    left join accepted as ok_initial
        on ok_initial.field = 'INITIAL_EVENT' and typed.initial_event = ok_initial.value
    left join accepted as ok_event_2
        on ok_event_2.field = 'EVENT_2' and typed.event_2 = ok_event_2.value
    left join accepted as ok_event_3
        on ok_event_3.field = 'EVENT_3' and typed.event_3 = ok_event_3.value
    left join accepted as ok_event_out
        on ok_event_out.field = 'EVENT_OUT' and typed.event_out = ok_event_out.value
    left join accepted as ok_os
        on ok_os.field = 'OS_USER' and typed.os_user = ok_os.value
    left join accepted as ok_city
        on ok_city.field = 'CITY' and typed.city = ok_city.value
    left join accepted as ok_payment
        on ok_payment.field = 'PAYMENT_METHOD' and typed.payment_method = ok_payment.value
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

-- A redelivered record (same key, same content) is kept once. A record reusing a key with other
-- content (here, or already in analytics.orders) is a conflict: quarantined, never merged.
flagged as (
    select
        ranked.*,
        (
            ranked.record_hash != ranked.first_hash
            or (known.record_hash is not null and ranked.record_hash != known.record_hash)
        ) as is_conflict
    from ranked
    left join analytics.orders as known on ranked.event_key = known.order_id
),

deduped as (
    select
        flagged.* exclude (reason, copy_number, first_hash, is_conflict),
        coalesce(
            flagged.reason,
            iff(flagged.is_conflict, 'conflicting duplicate: EVENT_ID already seen with other content', null)
        ) as reason,
        iff(flagged.is_conflict, sha2(flagged.event_key || ':' || flagged.record_hash, 256), flagged.event_key)
            as reject_id
    from flagged
    qualify row_number() over (
        partition by flagged.event_key, flagged.record_hash
        order by flagged.copy_number
    ) = 1
)

select * from deduped
