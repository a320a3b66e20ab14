-- raw.events_raw gets one VARCHAR column per field of the event contract: the field's value as text
-- (RECORD:<FIELD>::VARCHAR), taken out of the record once, when it loads (sql/load/events_raw.sql). The
-- transforms read these columns instead of the VARIANT, whose every path read is a parse of the whole record
-- on an engine that stores VARIANT as text; on Snowflake they are ordinary, compressed, prunable columns.
-- RECORD stays the record as delivered, with every key (the contract's and any other). A JSON null or an
-- absent key is NULL here; the seed's "Null" string is kept as sent (the transforms read it as absent).
alter table raw.events_raw add column if not exists event_id varchar;
alter table raw.events_raw add column if not exists user_id varchar;
alter table raw.events_raw add column if not exists initial_event varchar;
alter table raw.events_raw add column if not exists event_2 varchar;
alter table raw.events_raw add column if not exists event_3 varchar;
alter table raw.events_raw add column if not exists event_out varchar;
alter table raw.events_raw add column if not exists os_user varchar;
alter table raw.events_raw add column if not exists city varchar;
alter table raw.events_raw add column if not exists latitude varchar;
alter table raw.events_raw add column if not exists longitude varchar;
alter table raw.events_raw add column if not exists order_type varchar;
alter table raw.events_raw add column if not exists status varchar;
alter table raw.events_raw add column if not exists payment_method varchar;
alter table raw.events_raw add column if not exists device_model varchar;
alter table raw.events_raw add column if not exists created_at varchar;
alter table raw.events_raw add column if not exists hourly_purchase_count varchar;
alter table raw.events_raw add column if not exists daily_purchase_count varchar;

-- Rows loaded before this migration: the same values, from the record (a one-time scan of the table).
update raw.events_raw
set
    event_id = record:EVENT_ID::varchar,
    user_id = record:USER_ID::varchar,
    initial_event = record:INITIAL_EVENT::varchar,
    event_2 = record:EVENT_2::varchar,
    event_3 = record:EVENT_3::varchar,
    event_out = record:EVENT_OUT::varchar,
    os_user = record:OS_USER::varchar,
    city = record:CITY::varchar,
    latitude = record:LATITUDE::varchar,
    longitude = record:LONGITUDE::varchar,
    order_type = record:ORDER_TYPE::varchar,
    status = record:STATUS::varchar,
    payment_method = record:PAYMENT_METHOD::varchar,
    device_model = record:DEVICE_MODEL::varchar,
    created_at = record:CREATED_AT::varchar,
    hourly_purchase_count = record:HOURLY_PURCHASE_COUNT::varchar,
    daily_purchase_count = record:DAILY_PURCHASE_COUNT::varchar
