-- Baseline: the objects every deployment had before versioned migrations. Each statement is
-- `create ... if not exists`, so on a database that already holds them it changes nothing and keeps the data.
-- Never edit this file: later changes are new migrations (see sql/migrations/README.md).

-- Raw layer: landed lines, parsed records, quarantine and the load audit.

-- Each line of a delivered file lands whole as text: one column, a delimiter that never occurs in JSON
-- text, no quoting or escaping. Malformed JSON is then a row to quarantine, not a failed COPY.
create file format if not exists raw.ndjson_lines
    type = csv
    field_delimiter = '\x01'
    escape_unenclosed_field = none
    field_optionally_enclosed_by = none
    compression = auto;

-- Internal stage for accounts (and the local stack) without a storage integration: files are PUT here.
create stage if not exists raw.landing_internal;

-- One row per delivered file: what was loaded, when, and whether the transforms have consumed it.
-- This, not COPY's 64-day load memory, decides which files are new.
create table if not exists raw.load_audit (
    file_name varchar,
    file_etag varchar,
    file_size number,
    load_id varchar,
    status varchar,
    rows_loaded number,
    rows_rejected number,
    error varchar,
    loaded_at timestamp_ntz,
    transform_batch_id varchar,
    transformed_at timestamp_ntz
);

-- Scratch table for one file's lines between COPY and the inserts that split them.
create transient table if not exists raw.landing_lines (
    line varchar
);

create table if not exists raw.events_raw (
    event_key varchar,
    record variant,
    file_name varchar,
    load_id varchar,
    loaded_at timestamp_ntz
);

-- Quarantine: every record that is not in the analytics tables, with the reason in words. rejected_in says
-- which step put it here: 'load' (a line that is not a JSON object), 'transform' (failed validation) or
-- 'firehose' (a record Firehose wrote to its error output instead of delivering it).
create table if not exists raw.rejected_events (
    reject_id varchar,
    raw_text varchar,
    file_name varchar,
    reason varchar,
    rejected_in varchar,
    load_id varchar,
    rejected_at timestamp_ntz
);

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

-- The accepted value per field (V020 replaces this table with the event contract's tables).
create table if not exists raw.accepted_values (
    field varchar,
    value varchar
);
