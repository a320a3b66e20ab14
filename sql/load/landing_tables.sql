-- The session's private landing area: temporary tables, so a transaction left open by a dropped connection
-- locks nothing another session needs. landing_lines holds a batch's lines as COPY landed them (file_name:
-- the staged file's name as COPY reports it); landing_files maps each staged file to its S3 object and load;
-- landing_parsed holds each non-blank line parsed once, with the reason it is quarantined (if it is).
-- landed_at: set when the files are entered, before any of their rows are written (sql/load/record_load.sql).
-- Unqualified: a temporary table lives in the session's current schema (RAW).
create temporary table if not exists landing_lines (
    file_name varchar,
    line varchar
);

create temporary table if not exists landing_files (
    staged_name varchar,
    file_name varchar,
    file_etag varchar,
    file_size number,
    load_id varchar,
    landed_at timestamp_ntz default sysdate()
);

create temporary table if not exists landing_parsed (
    line varchar,
    record variant,
    record_hash varchar,
    file_name varchar,
    load_id varchar,
    reason varchar
)
