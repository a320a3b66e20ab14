-- The batch's JSON objects become raw records (sql/load/parsed_lines.sql classified every line), each with
-- the hash of its line as delivered (record_hash), its event key (the generator's EVENT_ID, or for seed
-- records, which have none, that hash) and each field of the contract as text, read out of the record once
-- here so that no later step parses the record again (migration V012).
insert into raw.events_raw (
    event_key, record, record_hash, file_name, load_id, loaded_at,
    event_id, user_id, initial_event, event_2, event_3, event_out, os_user, city, latitude, longitude,
    order_type, status, payment_method, device_model, created_at, hourly_purchase_count, daily_purchase_count
)
with

fields as (
    select
        parsed.record,
        parsed.record_hash,
        parsed.file_name,
        parsed.load_id,
        parsed.record:EVENT_ID::varchar as event_id,
        parsed.record:USER_ID::varchar as user_id,
        parsed.record:INITIAL_EVENT::varchar as initial_event,
        parsed.record:EVENT_2::varchar as event_2,
        parsed.record:EVENT_3::varchar as event_3,
        parsed.record:EVENT_OUT::varchar as event_out,
        parsed.record:OS_USER::varchar as os_user,
        parsed.record:CITY::varchar as city,
        parsed.record:LATITUDE::varchar as latitude,
        parsed.record:LONGITUDE::varchar as longitude,
        parsed.record:ORDER_TYPE::varchar as order_type,
        parsed.record:STATUS::varchar as status,
        parsed.record:PAYMENT_METHOD::varchar as payment_method,
        parsed.record:DEVICE_MODEL::varchar as device_model,
        parsed.record:CREATED_AT::varchar as created_at,
        parsed.record:HOURLY_PURCHASE_COUNT::varchar as hourly_purchase_count,
        parsed.record:DAILY_PURCHASE_COUNT::varchar as daily_purchase_count
    from landing_parsed as parsed
    where parsed.reason is null
)

select
    coalesce(nullif(trim(fields.event_id), ''), fields.record_hash) as event_key,
    fields.record,
    fields.record_hash,
    fields.file_name,
    fields.load_id,
    sysdate() as loaded_at,
    fields.event_id,
    fields.user_id,
    fields.initial_event,
    fields.event_2,
    fields.event_3,
    fields.event_out,
    fields.os_user,
    fields.city,
    fields.latitude,
    fields.longitude,
    fields.order_type,
    fields.status,
    fields.payment_method,
    fields.device_model,
    fields.created_at,
    fields.hourly_purchase_count,
    fields.daily_purchase_count
from fields
