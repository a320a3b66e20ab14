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
