-- Split one file's landed lines: JSON objects become raw records, each with the hash of its line as
-- delivered and its event key: the generator's EVENT_ID, or for seed records (which have none) that hash.
insert into raw.events_raw (event_key, record, record_hash, file_name, load_id, loaded_at)
select
    coalesce(nullif(trim(parsed.record:EVENT_ID::varchar), ''), parsed.record_hash) as event_key,
    parsed.record,
    parsed.record_hash,
    %(file_name)s as file_name,
    %(load_id)s as load_id,
    sysdate() as loaded_at
from (
    select
        try_parse_json(lines.line) as record,
        sha2(lines.line, 256) as record_hash
    from raw.landing_lines as lines
    where
        trim(coalesce(lines.line, '')) != ''
        and startswith(ltrim(lines.line), '{')
) as parsed
where parsed.record is not null
