-- The batch's raw records, typed, validated against the event contract and deduplicated: the one input of
-- every model after it. The contract (config/event_contract.schema.json, copied into raw.contract_fields and
-- raw.known_values by setup) quarantines only what cannot be represented faithfully or would corrupt a
-- metric; an open field's value (city, OS, payment method, device, step names) loads exactly as sent.
-- A temporary table: private to the run's session (two runs never share it) and never written to storage.
-- Unqualified, it lives in the session's current schema (RAW); every later model reads it on this session.
create or replace temporary table stg_events as
with

source as (
    select
        raw_events.event_key,
        raw_events.record,
        -- Rows loaded before raw.events_raw had record_hash fall back to the content hash they were keyed by.
        coalesce(raw_events.record_hash, sha2(to_json(raw_events.record), 256)) as record_hash,
        raw_events.file_name,
        raw_events.loaded_at,
        -- Each field as text, read out of the record when it loaded (migration V012).
        raw_events.event_id,
        raw_events.user_id,
        raw_events.initial_event,
        raw_events.event_2,
        raw_events.event_3,
        raw_events.event_out,
        raw_events.os_user,
        raw_events.city,
        raw_events.latitude,
        raw_events.longitude,
        raw_events.order_type,
        raw_events.status,
        raw_events.payment_method,
        raw_events.device_model,
        raw_events.created_at,
        raw_events.hourly_purchase_count,
        raw_events.daily_purchase_count
    from raw.events_raw as raw_events
    -- The batch's files (raw.transform_queue), whose rows all loaded between the batch's bounds
    -- (sql/transform/bounds/claimed.sql): constants, so only the micro-partitions of that window are read.
    where
        raw_events.loaded_at >= %(batch_landed_from)s::timestamp_ntz
        and raw_events.loaded_at < %(batch_loaded_until)s::timestamp_ntz
        and raw_events.load_id in (
            select queue.load_id
            from raw.transform_queue as queue
            where queue.transform_batch_id = %(batch_id)s
        )
),

renamed as (
    select
        source.event_key,
        nullif(trim(source.event_id), '') as source_event_id,
        nullif(source.user_id, 'Null') as user_id,
        -- A JSON string's TO_JSON text starts with a quote. Only a text that could be another JSON type's (it
        -- starts with one of - 0 1 2 3 4 5 6 7 8 9 t f [ {) is looked up in the record again.
        case
            when contains('-0123456789tf[{', left(source.user_id, 1))
                then startswith(to_json(source.record:USER_ID), '"')
            else true
        end as user_id_is_text,
        nullif(source.initial_event, 'Null') as initial_event,
        nullif(source.event_2, 'Null') as event_2,
        nullif(source.event_3, 'Null') as event_3,
        nullif(source.event_out, 'Null') as event_out,
        nullif(source.os_user, 'Null') as os_user,
        nullif(source.city, 'Null') as city,
        nullif(source.latitude, 'Null') as latitude_text,
        nullif(source.longitude, 'Null') as longitude_text,
        nullif(source.order_type, 'Null') as order_type,
        nullif(source.status, 'Null') as status,
        nullif(source.payment_method, 'Null') as payment_method,
        nullif(source.device_model, 'Null') as device_model,
        nullif(source.created_at, 'Null') as created_at_text,
        nullif(source.hourly_purchase_count, 'Null') as hourly_count_text,
        nullif(source.daily_purchase_count, 'Null') as daily_count_text,
        -- The first text field holding a JSON number, boolean, array or object instead of a string (TO_JSON's
        -- text starts with a quote for a string, with n for a JSON null), looked up as above.
        case
            when
                contains('-0123456789tf[{', left(source.initial_event, 1))
                and left(to_json(source.record:INITIAL_EVENT), 1) not in ('"', 'n') then 'INITIAL_EVENT'
            when
                contains('-0123456789tf[{', left(source.event_2, 1))
                and left(to_json(source.record:EVENT_2), 1) not in ('"', 'n') then 'EVENT_2'
            when
                contains('-0123456789tf[{', left(source.event_3, 1))
                and left(to_json(source.record:EVENT_3), 1) not in ('"', 'n') then 'EVENT_3'
            when
                contains('-0123456789tf[{', left(source.event_out, 1))
                and left(to_json(source.record:EVENT_OUT), 1) not in ('"', 'n') then 'EVENT_OUT'
            when
                contains('-0123456789tf[{', left(source.os_user, 1))
                and left(to_json(source.record:OS_USER), 1) not in ('"', 'n') then 'OS_USER'
            when
                contains('-0123456789tf[{', left(source.city, 1))
                and left(to_json(source.record:CITY), 1) not in ('"', 'n') then 'CITY'
            when
                contains('-0123456789tf[{', left(source.order_type, 1))
                and left(to_json(source.record:ORDER_TYPE), 1) not in ('"', 'n') then 'ORDER_TYPE'
            when
                contains('-0123456789tf[{', left(source.status, 1))
                and left(to_json(source.record:STATUS), 1) not in ('"', 'n') then 'STATUS'
            when
                contains('-0123456789tf[{', left(source.payment_method, 1))
                and left(to_json(source.record:PAYMENT_METHOD), 1) not in ('"', 'n') then 'PAYMENT_METHOD'
            when
                contains('-0123456789tf[{', left(source.device_model, 1))
                and left(to_json(source.record:DEVICE_MODEL), 1) not in ('"', 'n') then 'DEVICE_MODEL'
        end as non_text_field,
        source.record,
        source.record_hash,
        source.file_name,
        source.loaded_at
    from source
),

-- The contract's valid range of CREATED_AT (raw.contract_fields, copied from config/event_contract.schema.json
-- by setup): from VALID_FROM to VALID_HOURS_AHEAD hours after now, in UTC. An aggregate: always one row.
created_at_range as (
    select
        max(contract_fields.valid_from) as valid_from,
        dateadd('hour', max(contract_fields.valid_hours_ahead), sysdate()) as valid_until,
        max(contract_fields.valid_range) as valid_range
    from raw.contract_fields as contract_fields
    where contract_fields.field = 'CREATED_AT'
),

-- CREATED_AT's parts when it has an accepted shape: 'YYYY-MM-DD HH:MM:SS' (the seed's) or ISO-8601 with a T,
-- fractional seconds and a zone (Z, +hh:mm, -hh:mm); no zone means UTC. A text of 19 characters has neither
-- fraction nor zone, so only a longer one is searched for them. Only a year next to the valid range is ever
-- converted: any other is out of range whatever its day and zone, and a year such as 0 or 10000 in UTC is
-- not a value the engines (or the client reading it back) keep alike.
created_at_parts as (
    select
        renamed.*,
        try_to_number(left(renamed.created_at_text, 4))
        between year(created_at_range.valid_from) - 1 and year(created_at_range.valid_until) + 1
            as created_at_year_near_range,
        iff(
            regexp_like(
                renamed.created_at_text,
                '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?$'
            ),
            substr(renamed.created_at_text, 1, 10) || ' ' || substr(renamed.created_at_text, 12, 8),
            null
        ) as created_at_seconds,
        length(renamed.created_at_text) > 19 as created_at_has_more,
        iff(
            length(renamed.created_at_text) > 19,
            nullif(regexp_substr(substr(renamed.created_at_text, 20), '^[.][0-9]+'), ''),
            null
        ) as created_at_fraction,
        iff(
            length(renamed.created_at_text) > 19,
            coalesce(nullif(regexp_substr(renamed.created_at_text, '[+-][0-9]{2}:[0-9]{2}$'), ''), '+00:00'),
            '+00:00'
        ) as created_at_zone
    from renamed
    cross join created_at_range
),

-- Each typed field converted only from a text its column holds as written (validated below says why not):
-- a coordinate from a decimal number (an exponent allowed) of at most 40 characters and a 2-digit exponent,
-- which no FLOAT overflows or underflows (NaN, Infinity, hex and padding never reach TRY_TO_DOUBLE, whose
-- answers to them differ between engines). A count's text that is not a whole number of at most 18 digits
-- gets its problem, so validated quarantines it (the columns are NUMBER(38,0) on Snowflake but BIGINT on the
-- emulator: the contract's limit is what both hold); no count is NULL for a value sent. Each check below runs
-- its common case first, so a valid record costs one regular expression per field.
typed as (
    select
        created_at_parts.* exclude (
            created_at_seconds, created_at_has_more, created_at_fraction, created_at_zone, created_at_year_near_range
        ),
        iff(
            length(created_at_parts.latitude_text) <= 40
            and regexp_like(created_at_parts.latitude_text, '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]{1,2})?$'),
            try_to_double(created_at_parts.latitude_text),
            null
        ) as latitude,
        iff(
            length(created_at_parts.longitude_text) <= 40
            and regexp_like(created_at_parts.longitude_text, '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]{1,2})?$'),
            try_to_double(created_at_parts.longitude_text),
            null
        ) as longitude,
        try_to_number(created_at_parts.hourly_count_text) as producer_hourly_purchase_count,
        try_to_number(created_at_parts.daily_count_text) as producer_daily_purchase_count,
        -- Past the contract's limit: more than 18 digits, or an exponent of 18 or more (Snowflake writes a JSON
        -- number too large for a NUMBER that way).
        case
            when
                created_at_parts.hourly_count_text is null
                or regexp_like(created_at_parts.hourly_count_text, '^0*[0-9]{1,18}$')
                then null
            when regexp_like(created_at_parts.hourly_count_text, '^-0*[1-9][0-9]*$') then 'negative purchase count'
            when regexp_like(
                created_at_parts.hourly_count_text,
                '^[0-9]+$|^[0-9]+([.][0-9]+)?[eE][+]?0*(1[89]|[2-9][0-9]|[1-9][0-9]{2,})$'
            ) then 'HOURLY_PURCHASE_COUNT out of range: more than 18 digits'
            else 'malformed HOURLY_PURCHASE_COUNT: expected a whole number'
        end as hourly_count_problem,
        case
            when
                created_at_parts.daily_count_text is null
                or regexp_like(created_at_parts.daily_count_text, '^0*[0-9]{1,18}$')
                then null
            when regexp_like(created_at_parts.daily_count_text, '^-0*[1-9][0-9]*$') then 'negative purchase count'
            when regexp_like(
                created_at_parts.daily_count_text,
                '^[0-9]+$|^[0-9]+([.][0-9]+)?[eE][+]?0*(1[89]|[2-9][0-9]|[1-9][0-9]{2,})$'
            ) then 'DAILY_PURCHASE_COUNT out of range: more than 18 digits'
            else 'malformed DAILY_PURCHASE_COUNT: expected a whole number'
        end as daily_count_problem,
        iff(created_at_parts.created_at_seconds is null, null, created_at_parts.created_at_year_near_range)
            as created_at_year_in_reach,
        -- In UTC, parsed with one explicit format per shape: without fraction or zone (the seed's, already
        -- UTC), with a zone, with fractional seconds and a zone.
        case
            when not created_at_parts.created_at_year_near_range then null
            when not created_at_parts.created_at_has_more
                then try_to_timestamp_ntz(created_at_parts.created_at_seconds, 'YYYY-MM-DD HH24:MI:SS')
            when created_at_parts.created_at_fraction is null
                then convert_timezone(
                    'UTC',
                    try_to_timestamp_tz(
                        created_at_parts.created_at_seconds || ' ' || created_at_parts.created_at_zone,
                        'YYYY-MM-DD HH24:MI:SS TZH:TZM'
                    )
                )::timestamp_ntz
            else convert_timezone(
                'UTC',
                try_to_timestamp_tz(
                    created_at_parts.created_at_seconds || created_at_parts.created_at_fraction
                    || ' ' || created_at_parts.created_at_zone,
                    'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM'
                )
            )::timestamp_ntz
        end as created_at
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

-- Per record, the first value of a closed field that the contract does not know (in the reason, its first 100
-- characters and how many more it had).
unknown_closed as (
    select
        closed_values.event_key,
        closed_values.record_hash,
        'unknown ' || closed_values.field || ': ' || left(closed_values.value, 100)
        || iff(
            length(closed_values.value) > 100,
            '…[' || (length(closed_values.value) - 100)::varchar || ' more characters]',
            ''
        ) as problem
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
        typed.* exclude (created_at_year_in_reach, hourly_count_problem, daily_count_problem),
        case
            when typed.user_id is null then 'missing USER_ID'
            when not typed.user_id_is_text then 'malformed USER_ID: must be a JSON string'
            when not regexp_like(typed.user_id, '^[0-9a-f]{10}$')
                then 'malformed USER_ID: expected 10 lowercase hex characters'
            when typed.created_at_text is null then 'missing CREATED_AT'
            when
                not typed.created_at_year_in_reach
                or typed.created_at < created_at_range.valid_from
                or typed.created_at > created_at_range.valid_until
                then 'CREATED_AT out of range: must be ' || created_at_range.valid_range
            when typed.created_at is null
                then 'unparseable CREATED_AT: expected YYYY-MM-DD HH:MM:SS or ISO-8601'
            when typed.latitude_text is null or typed.longitude_text is null
                then 'missing or non-numeric LATITUDE/LONGITUDE'
            when typed.latitude is null or typed.longitude is null
                then iff(
                    regexp_like(typed.latitude_text, '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$')
                    and regexp_like(typed.longitude_text, '^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'),
                    'LATITUDE/LONGITUDE out of range: more than 40 characters or a 3-digit exponent',
                    'missing or non-numeric LATITUDE/LONGITUDE'
                )
            when typed.latitude not between -90 and 90 or typed.longitude not between -180 and 180
                then 'coordinates out of range'
            when typed.order_type is null then 'missing ORDER_TYPE'
            when typed.status is null then 'missing STATUS'
            when typed.non_text_field is not null
                then 'malformed ' || typed.non_text_field || ': must be a JSON string'
            when unknown_closed.problem is not null then unknown_closed.problem
            when 'negative purchase count' in (typed.hourly_count_problem, typed.daily_count_problem)
                then 'negative purchase count'
            when typed.hourly_count_problem is not null then typed.hourly_count_problem
            when typed.daily_count_problem is not null then typed.daily_count_problem
        end as reason
    from typed
    cross join created_at_range
    left join unknown_closed
        on typed.event_key = unknown_closed.event_key and typed.record_hash = unknown_closed.record_hash
),

-- Keys the batch holds more than once (a redelivery, or other content under the same key): only their rows
-- need ranking, so the sorts below see those few rows, not the batch.
repeated_keys as (
    select source.event_key
    from source
    group by source.event_key
    having count(*) > 1
),

-- Each row, whether it is the first copy of its line under its key (by load time, then file), and the line
-- its key was first delivered with.
ranked as (
    select
        validated.*,
        true as is_first_copy,
        validated.record_hash as first_hash
    from validated
    where
        not exists (
            select 1 from repeated_keys
            where repeated_keys.event_key = validated.event_key
        )
    union all
    select
        validated.*,
        row_number() over (
            partition by validated.event_key, validated.record_hash
            order by validated.loaded_at, validated.file_name
        ) = 1 as is_first_copy,
        first_value(validated.record_hash) over (
            partition by validated.event_key
            order by validated.loaded_at, validated.file_name, validated.record_hash
        ) as first_hash
    from validated
    inner join repeated_keys on validated.event_key = repeated_keys.event_key
),

-- The orders an earlier copy of a batch record can be in: those loaded since dedup_since (the dedup horizon,
-- docs/bounded-work.md), a constant, so only those micro-partitions are read. A copy loaded more than the
-- horizon after the first is not recognised.
horizon_orders as (
    select
        orders.order_id,
        orders.record_hash
    from analytics.orders as orders
    where orders.loaded_at >= %(dedup_since)s::timestamp_ntz
),

-- A redelivered record (same key, same line) is kept once. A record reusing a key with other content
-- (here, or already in analytics.orders) is a conflict: quarantined, never merged.
flagged as (
    select
        ranked.*,
        case
            when ranked.record_hash != ranked.first_hash then true
            when known.record_hash is null or known.record_hash = ranked.record_hash then false
            -- Orders merged before record_hash was the delivered line's hash hold the content hash instead.
            else known.record_hash != sha2(to_json(ranked.record), 256)
        end as is_conflict
    from ranked
    left join horizon_orders as known on ranked.event_key = known.order_id
),

deduped as (
    select
        flagged.* exclude (record, reason, is_first_copy, first_hash, is_conflict, non_text_field),
        coalesce(
            flagged.reason,
            iff(flagged.is_conflict, 'conflicting duplicate: EVENT_ID already seen with other content', null)
        ) as reason,
        -- The record as text, for quarantine only (what goes to analytics is typed above).
        iff(flagged.reason is not null or flagged.is_conflict, to_json(flagged.record), null) as raw_text,
        iff(flagged.is_conflict, sha2(flagged.event_key || ':' || flagged.record_hash, 256), flagged.event_key)
            as reject_id
    from flagged
    where flagged.is_first_copy
)

select * from deduped
