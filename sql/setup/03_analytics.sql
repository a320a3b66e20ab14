-- Analytics layer: the tables people query. Keys are enforced by the MERGEs, not by constraints.

create table if not exists analytics.orders (
    order_id varchar,
    source_event_id varchar,
    user_id varchar,
    order_type varchar,
    status varchar,
    payment_method varchar,
    category varchar,
    created_at timestamp_ntz,
    producer_hourly_purchase_count number,
    producer_daily_purchase_count number,
    record_hash varchar,
    file_name varchar,
    loaded_at timestamp_ntz
);

create table if not exists analytics.events (
    event_id varchar,
    order_id varchar,
    user_id varchar,
    event_name varchar,
    event_position number,
    event_timestamp timestamp_ntz
);

create table if not exists analytics.users (
    user_id varchar,
    os_user varchar,
    city varchar,
    latitude float,
    longitude float,
    device_model varchar,
    first_seen_at timestamp_ntz,
    last_seen_at timestamp_ntz
);

create table if not exists analytics.purchase_counts (
    user_id varchar,
    hour timestamp_ntz,
    daily date,
    hourly_purchase_count number,
    daily_purchase_count number
);
