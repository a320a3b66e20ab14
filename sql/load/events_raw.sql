-- Split a batch's landed lines: the JSON objects become raw records, each with the hash of its line as
-- delivered (record_hash) and its event key: the generator's EVENT_ID, or for seed records (which have
-- none) that hash. sql/load/rejected_lines.sql quarantines every other non-blank line, by the same tests
-- in the same order. landing_lines and landing_files are the session's temporary tables (see the loader).
insert into raw.events_raw (event_key, record, record_hash, file_name, load_id, loaded_at)
with

landed as (
    select
        lines.line,
        files.file_name,
        files.load_id
    from landing_lines as lines
    inner join landing_files as files on lines.file_name = files.staged_name
    where trim(lines.line) != ''
),

parsed as (
    select
        try_parse_json(landed.line) as record,
        sha2(landed.line, 256) as record_hash,
        landed.line,
        landed.file_name,
        landed.load_id
    from landed
    where
        not contains(landed.line, '�')
        and startswith(ltrim(landed.line), '{')
)

select
    coalesce(nullif(trim(parsed.record:EVENT_ID::varchar), ''), parsed.record_hash) as event_key,
    parsed.record,
    parsed.record_hash,
    parsed.file_name,
    parsed.load_id,
    sysdate() as loaded_at
from parsed
where
    parsed.record is not null
    -- A trailing comma before } or ] outside a string: not JSON (RFC 8259), whatever a parser forgives.
    and not regexp_like(parsed.line, '([^"]|"([^"\\\\]|\\\\.)*")*,[ \\t]*[]}].*')
