-- Split one file's landed lines: JSON objects become raw records, each with its event key: the
-- generator's EVENT_ID, or for seed records (which have none) a hash of the record's content.
insert into raw.events_raw (event_key, record, file_name, load_id, loaded_at)
select
    coalesce(nullif(trim(parsed.record:EVENT_ID::varchar), ''), sha2(to_json(parsed.record), 256)) as event_key,
    parsed.record,
    %(file_name)s as file_name,
    %(load_id)s as load_id,
    sysdate() as loaded_at
from (
    select try_parse_json(lines.line) as record
    from raw.landing_lines as lines
    where
        trim(coalesce(lines.line, '')) != ''
        and startswith(ltrim(lines.line), '{')
) as parsed
where parsed.record is not null
