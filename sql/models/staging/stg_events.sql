-- The batch's raw records (raw.events_raw), each field as the text it was read out of the record at load
-- (migration V012), 'Null' (the seed's absent marker) as NULL. The batch's files (raw.transform_queue) all
-- loaded between the batch's bounds, which are literals (vars), so only that window's micro-partitions are read.
-- A test of the whole tables (whole_tables()) reads every transformed file's records instead.
with

source as (
    select
        raw_events.event_key,
        raw_events.record,
        -- Rows loaded before raw.events_raw had record_hash fall back to the content hash they were keyed by.
        coalesce(raw_events.record_hash, sha2(to_json(raw_events.record), 256)) as record_hash,
        raw_events.file_name,
        raw_events.loaded_at,
        raw_events.event_id,
        raw_events.user_id,
        raw_events.latitude,
        raw_events.longitude,
        raw_events.created_at,
        {% for field in text_fields() %}
        raw_events.{{ field | lower }},
        {% endfor %}
        raw_events.hourly_purchase_count,
        raw_events.daily_purchase_count
    from {{ source('raw', 'events_raw') }} as raw_events
    where
        raw_events.loaded_at >= '{{ var("batch_landed_from") }}'::timestamp_ntz
        and raw_events.loaded_at < '{{ var("batch_loaded_until") }}'::timestamp_ntz
        and raw_events.load_id in (
            {% if whole_tables() %}
            select audit.load_id
            from {{ source('raw', 'load_audit') }} as audit
            where audit.transformed_at is not null
            {% else %}
            select queue.load_id
            from {{ source('raw', 'transform_queue') }} as queue
            where queue.transform_batch_id = '{{ var("batch_id") }}'
            {% endif %}
        )
)

select
    source.event_key,
    nullif(trim(source.event_id), '') as source_event_id,
    nullif(source.user_id, 'Null') as user_id,
    {{ is_not_json_string('source.user_id', 'source.record', 'USER_ID') }} as user_id_not_text,
    {% for field in text_fields() %}
    nullif(source.{{ field | lower }}, 'Null') as {{ field | lower }},
    {% endfor %}
    nullif(source.latitude, 'Null') as latitude_text,
    nullif(source.longitude, 'Null') as longitude_text,
    nullif(source.created_at, 'Null') as created_at_text,
    nullif(source.hourly_purchase_count, 'Null') as hourly_count_text,
    nullif(source.daily_purchase_count, 'Null') as daily_count_text,
    -- The first text field holding a JSON number, boolean, array or object instead of a string.
    case
        {% for field in text_fields() %}
        when {{ is_not_json_string('source.' ~ field | lower, 'source.record', field) }} then '{{ field }}'
        {% endfor %}
    end as non_text_field,
    source.record,
    source.record_hash,
    source.file_name,
    source.loaded_at
from source
