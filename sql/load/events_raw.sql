-- The batch's JSON objects become raw records (sql/load/parsed_lines.sql classified every line), each with
-- the hash of its line as delivered (record_hash) and its event key: the generator's EVENT_ID, or for seed
-- records (which have none) that hash.
insert into raw.events_raw (event_key, record, record_hash, file_name, load_id, loaded_at)
select
    coalesce(nullif(trim(parsed.record:EVENT_ID::varchar), ''), parsed.record_hash) as event_key,
    parsed.record,
    parsed.record_hash,
    parsed.file_name,
    parsed.load_id,
    sysdate() as loaded_at
from landing_parsed as parsed
where parsed.reason is null
