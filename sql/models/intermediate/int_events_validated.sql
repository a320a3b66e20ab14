{{ config(alias='events_validated') }}
{%- set created_at = event_contract()['ranges']['CREATED_AT'] %}
{%- set closed = event_contract()['closed'] %}
-- The batch's records typed, validated against the event contract (config/event_contract.schema.json, read
-- through the generated macro event_contract) and deduplicated: the one input of every mart. The contract
-- quarantines only what cannot be represented faithfully or would corrupt a metric; an open field's value
-- (city, OS, payment method, device, step names) loads exactly as sent. A transient table rebuilt by each
-- batch (the pipeline's lease lets one transform run at a time).
with

-- CREATED_AT's parts when it has an accepted shape: 'YYYY-MM-DD HH:MM:SS' (the seed's) or ISO-8601 with a T,
-- fractional seconds and a zone (Z, +hh:mm, -hh:mm); no zone means UTC. A text of 19 characters has neither
-- fraction nor zone, so only a longer one is searched for them. Only a year next to the contract's valid range
-- (literals) is ever converted: any other is out of range whatever its day and zone, and a year such as 0 or
-- 10000 is not a value the engines (or the client reading it back) keep alike.
created_at_parts as (
    select
        stg.*,
        left(stg.created_at_text, 4) >= '{{ created_at.valid_from[:4] | int - 1 }}'
        and left(stg.created_at_text, 4)
        <= to_varchar(year(dateadd('hour', {{ created_at.valid_hours_ahead }}, sysdate())) + 1)
            as created_at_year_near_range,
        iff(
            regexp_like(
                stg.created_at_text,
                '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?$'
            ),
            substr(stg.created_at_text, 1, 10) || ' ' || substr(stg.created_at_text, 12, 8),
            null
        ) as created_at_seconds,
        length(stg.created_at_text) > 19 as created_at_has_more,
        iff(
            length(stg.created_at_text) > 19,
            nullif(regexp_substr(substr(stg.created_at_text, 20), '^[.][0-9]+'), ''),
            null
        ) as created_at_fraction,
        iff(
            length(stg.created_at_text) > 19,
            coalesce(nullif(regexp_substr(stg.created_at_text, '[+-][0-9]{2}:[0-9]{2}$'), ''), '+00:00'),
            '+00:00'
        ) as created_at_zone,
        -- Each coordinate's shape, tested once: a decimal number (an exponent of at most two digits) of at
        -- most 40 characters, which no FLOAT overflows or underflows (NaN, Infinity, hex and padding never
        -- reach TRY_TO_DOUBLE, whose answers to them differ between engines).
        length(stg.latitude_text) <= 40 and regexp_like(stg.latitude_text, {{ decimal_pattern() }})
            as latitude_is_number,
        length(stg.longitude_text) <= 40 and regexp_like(stg.longitude_text, {{ decimal_pattern() }})
            as longitude_is_number,
        try_to_number(stg.hourly_count_text) as hourly_count,
        try_to_number(stg.daily_count_text) as daily_count
    from {{ ref('stg_events') }} as stg
),

-- Each typed field converted only from a text its column holds as written. A count whose text is not the
-- plain digits of a number from 0 to 18 nines gets its problem, so validated quarantines it (the columns are
-- NUMBER(38,0) on Snowflake but BIGINT on the emulator: the contract's limit is what both hold); the common
-- case (plain digits) needs no regular expression.
typed as (
    select
        parts.* exclude (
            created_at_seconds, created_at_has_more, created_at_fraction, created_at_zone,
            created_at_year_near_range, latitude_is_number, longitude_is_number, hourly_count, daily_count
        ),
        iff(parts.latitude_is_number, try_to_double(parts.latitude_text), null) as latitude,
        iff(parts.longitude_is_number, try_to_double(parts.longitude_text), null) as longitude,
        parts.hourly_count as producer_hourly_purchase_count,
        parts.daily_count as producer_daily_purchase_count,
        {{ count_problem('parts.hourly_count_text', 'parts.hourly_count', 'HOURLY_PURCHASE_COUNT') }}
            as hourly_count_problem,
        {{ count_problem('parts.daily_count_text', 'parts.daily_count', 'DAILY_PURCHASE_COUNT') }}
            as daily_count_problem,
        iff(parts.created_at_seconds is null, null, parts.created_at_year_near_range) as created_at_year_in_reach,
        -- In UTC, parsed with one explicit format per shape: without fraction or zone (the seed's, already
        -- UTC), with a zone, with fractional seconds and a zone.
        case
            when not parts.created_at_year_near_range then null
            when not parts.created_at_has_more
                then try_to_timestamp_ntz(parts.created_at_seconds, 'YYYY-MM-DD HH24:MI:SS')
            when parts.created_at_fraction is null
                then convert_timezone(
                    'UTC',
                    try_to_timestamp_tz(
                        parts.created_at_seconds || ' ' || parts.created_at_zone,
                        'YYYY-MM-DD HH24:MI:SS TZH:TZM'
                    )
                )::timestamp_ntz
            else convert_timezone(
                'UTC',
                try_to_timestamp_tz(
                    parts.created_at_seconds || parts.created_at_fraction || ' ' || parts.created_at_zone,
                    'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM'
                )
            )::timestamp_ntz
        end as created_at
    from created_at_parts as parts
),

validated as (
    select
        typed.* exclude (created_at_year_in_reach, hourly_count_problem, daily_count_problem, user_id_not_text),
        case
            when typed.user_id is null then 'missing USER_ID'
            when typed.user_id_not_text then 'malformed USER_ID: must be a JSON string'
            when not regexp_like(typed.user_id, '^[0-9a-f]{10}$')
                then 'malformed USER_ID: expected 10 lowercase hex characters'
            when typed.created_at_text is null then 'missing CREATED_AT'
            when
                not typed.created_at_year_in_reach
                or typed.created_at < '{{ created_at.valid_from }}'::timestamp_ntz
                or typed.created_at > dateadd('hour', {{ created_at.valid_hours_ahead }}, sysdate())
                then 'CREATED_AT out of range: must be {{ created_at.valid_range }}'
            when typed.created_at is null
                then 'unparseable CREATED_AT: expected YYYY-MM-DD HH:MM:SS or ISO-8601'
            when typed.latitude_text is null or typed.longitude_text is null
                then 'missing or non-numeric LATITUDE/LONGITUDE'
            when typed.latitude is null or typed.longitude is null
                then iff(
                    regexp_like(typed.latitude_text, {{ decimal_pattern('+') }})
                    and regexp_like(typed.longitude_text, {{ decimal_pattern('+') }}),
                    'LATITUDE/LONGITUDE out of range: more than 40 characters or a 3-digit exponent',
                    'missing or non-numeric LATITUDE/LONGITUDE'
                )
            when typed.latitude not between -90 and 90 or typed.longitude not between -180 and 180
                then 'coordinates out of range'
            when typed.order_type is null then 'missing ORDER_TYPE'
            when typed.status is null then 'missing STATUS'
            when typed.non_text_field is not null
                then 'malformed ' || typed.non_text_field || ': must be a JSON string'
            -- The first value of a closed field that the contract does not know (its first 100 characters and
            -- how many more it had), in the contract's field order.
            {% for field, values in closed | dictsort %}
            when typed.{{ field | lower }} not in ({{ quoted(values) }})
                then 'unknown {{ field }}: ' || {{ cut_text('typed.' ~ field | lower) }}
            {% endfor %}
            when 'negative purchase count' in (typed.hourly_count_problem, typed.daily_count_problem)
                then 'negative purchase count'
            when typed.hourly_count_problem is not null then typed.hourly_count_problem
            when typed.daily_count_problem is not null then typed.daily_count_problem
        end as reason
    from typed
),

-- Keys the batch holds more than once (a redelivery, or other content under the same key): only their rows
-- need ranking, so the sorts below see those few rows, not the batch.
repeated_keys as (
    select validated.event_key
    from validated
    group by validated.event_key
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

-- The orders an earlier copy of a batch record can be in: those loaded since the dedup horizon (a literal,
-- docs/bounded-work.md), so only those micro-partitions are read.
horizon_orders as (
    select
        orders.order_id,
        orders.record_hash
    from {{ source('analytics', 'orders') }} as orders
    where orders.loaded_at >= '{{ var("dedup_since") }}'::timestamp_ntz
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
        -- The texts the typed columns were converted from stay behind: no mart reads them.
        flagged.* exclude (
            record, reason, is_first_copy, first_hash, is_conflict, non_text_field,
            latitude_text, longitude_text, created_at_text, hourly_count_text, daily_count_text
        ),
        coalesce(
            flagged.reason,
            iff(flagged.is_conflict, 'conflicting duplicate: EVENT_ID already seen with other content', null)
        ) as reason,
        -- The record as text, for quarantine only (what goes to the marts is typed above).
        iff(flagged.reason is not null or flagged.is_conflict, to_json(flagged.record), null) as raw_text,
        iff(flagged.is_conflict, sha2(flagged.event_key || ':' || flagged.record_hash, 256), flagged.event_key)
            as reject_id
    from flagged
    where flagged.is_first_copy
)

select * from deduped
